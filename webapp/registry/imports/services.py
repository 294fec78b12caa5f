"""The import engine and its jobs: validate everything, then write all rows or none.

An import is an :class:`~webapp.registry.models.ImportJob` over a file saved under ``instance/imports/``:

1. **Validate everything** (phase 1): every row goes through the library's one validation function
   (``clean_unit`` / ``clean_inspector``, see :mod:`webapp.registry.imports.kinds`); duplicates inside the file
   and conflicts with records of organisations the user cannot manage are errors too. All errors are collected
   with the row number as the spreadsheet shows it (header = row 1), the column header and a Chinese message.
2. **All or nothing** (phase 2, only when phase 1 found no error): every row is written in ONE transaction
   with bulk statements; existing records are matched by their key (USCC / 执法证件号) and only changed
   fields are updated. One audit event (``import.units`` …) records the file's SHA-256 and what changed.

Progress (``processed_rows``) is written every ~1000 rows in its own short transaction so any process
polling the job sees it; the data itself stays one transaction. The work runs on :mod:`webapp.jobs`' runner
(config ``IMPORT_BACKGROUND``, default on: the task ``imports.run`` on the job queue, run by a worker process;
tests run it inline). The uploaded file is deleted when the job ends, done or failed (also when its worker died:
:func:`fail_stuck_jobs`). Files are read by :mod:`webapp.registry.imports.readers`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy import text as sql_text

from webapp import audit, jobs, storage
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.db import new_public_id, utcnow
from webapp.extensions import db
from webapp.registry.imports.kinds import ImportKind, get_kind
from webapp.registry.imports.readers import (
    HeaderMap,
    ImportFileError,
    cell_text,
    check_extension,
    estimate_rows,
    extension,
    lossy,
    match_header,
    read_table,
)
from webapp.registry.models import ImportJob, Unit
from webapp.registry.units.queries import forget_regions

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1000
LOOKUP_CHUNK = 2000  # keys per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits
MAX_STORED_ERRORS = 50_000
AUDIT_DIFF_LIMIT = 1000  # updated records whose {field: [old, new]} go into the audit event in full
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is tolerated


# ------------------------------------------------------------------------------------------- phase 1


@dataclass
class RowPlan:
    row: int
    values: dict
    provided: frozenset[str]  # fields with a non-blank cell: only these overwrite an existing record
    match_id: int | None = None


@dataclass
class Plan:
    kind: ImportKind
    org: Organisation
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    existing: dict[int, dict] = field(default_factory=dict)  # id -> current values of matched records
    errors_truncated: bool = False

    def error(self, row: int | None, column: str, message: str) -> None:
        if len(self.errors) >= MAX_STORED_ERRORS:
            self.errors_truncated = True
            return
        self.errors.append({"row": row, "column": column, "message": message})

    def warn(self, row: int | None, column: str, message: str) -> None:
        self.warnings.append({"row": row, "column": column, "message": message, "level": "warning"})


def _chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def validate(
    kind: ImportKind,
    path: str,
    filename: str,
    org: Organisation,
    actor: Any,
    *,
    max_rows: int,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Phase 1: read and check every row; nothing is written. Raises ImportFileError for unreadable files."""
    plan = Plan(kind=kind, org=org)
    rows = read_table(path, filename)
    header: HeaderMap | None = None
    first_row: tuple[int, tuple[Any, ...]] | None = None
    for number, cells in rows:
        if first_row is None:
            first_row = (number, cells)
        candidate = match_header(kind.columns, cells, number)
        if not candidate.missing:
            header = candidate
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if first_row is None:
        raise ImportFileError(_("文件是空的"))
    if header is None:
        header = match_header(kind.columns, first_row[1], first_row[0])
        for col in header.missing:
            plan.error(header.row, col.header, _("缺少必填列“%(header)s”", header=col.header))
        return plan
    for text in header.ignored:
        plan.warn(header.row, text, _("未识别的列，已忽略"))

    key = kind.key_field
    key_header = header.headers.get(key, kind.column(key).header)
    seen_keys: dict[str, int] = {}
    seen_fallback: dict[tuple, int] = {}
    seen_unique: dict[str, dict[Any, int]] = {f: {} for f in kind.unique_fields}
    count = 0
    field_at = sorted(header.fields.items())
    for number, cells in rows:
        raw: dict[str, str | None] = {}
        imprecise: set[str] = set()
        for index, name in field_at:
            value = cells[index] if index < len(cells) else None
            raw[name] = cell_text(value)
            if lossy(value):
                imprecise.add(name)
        if not any(raw.values()):
            continue  # blank line
        count += 1
        if count > max_rows:
            plan.errors = []
            plan.error(None, "", _("文件超过单次导入上限%(n)d行，请拆分后分批导入", n=max_rows))
            return plan
        values, errors = kind.clean(raw, org)
        if kind.check_row is not None and not errors:
            errors.update(kind.check_row(values, actor))
        for name, seen in seen_unique.items():
            v = values.get(name)
            if v is None or name in errors:
                continue
            if v in seen:
                errors[name] = str(_l("与第%(row)d行重复", row=seen[v]))
            else:
                seen[v] = number
        for name, message in errors.items():
            if name in imprecise:
                message += _("（该单元格是数字格式，Excel 只保留15位有效数字，请把该列设为文本后重新填写）")
            plan.error(number, header.headers.get(name, _header_of(kind, name)), message)
        k = values.get(key) if key not in errors else None
        if k:
            if kind.example_key and k == kind.example_key:
                plan.error(number, key_header, _("这是导入模板中的示例行，请删除后再导入"))
            elif k in seen_keys:
                plan.error(number, key_header, _("与第%(row)d行重复", row=seen_keys[k]))
            else:
                seen_keys[k] = number
        elif kind.fallback_fields and not errors:
            fb = tuple(values.get(f) for f in kind.fallback_fields)
            if fb in seen_fallback:
                plan.error(
                    number,
                    header.headers.get(kind.fallback_fields[0], ""),
                    _("与第%(row)d行重复（名称和地址相同，且都没有%(key)s）", row=seen_fallback[fb], key=key_header),
                )
            else:
                seen_fallback[fb] = number
        if not errors:
            provided = frozenset(n for n, v in raw.items() if v)
            plan.rows.append(RowPlan(row=number, values=values, provided=provided))
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if count == 0:
        plan.error(None, "", _("文件中没有数据行"))
        return plan
    if progress:
        progress(count)
    _match_existing(plan, actor, key_header)
    return plan


def _header_of(kind: ImportKind, name: str) -> str:
    try:
        return kind.column(name).header
    except StopIteration:
        return name


def _match_existing(plan: Plan, actor: Any, key_header: str) -> None:
    """Find the records the rows update: by key (any organisation), else by the fallback fields."""
    kind, model = plan.kind, plan.kind.model
    cols = [model.id, model.org_id, *(getattr(model, f) for f in kind.fields)]
    key_col = getattr(model, kind.key_field)
    keys = [r.values[kind.key_field] for r in plan.rows if r.values.get(kind.key_field)]
    by_key: dict[str, dict] = {}
    for chunk in _chunks(keys):
        for rec in db.session.execute(select(*cols).where(key_col.in_(chunk))).mappings():
            by_key[rec[kind.key_field]] = dict(rec)
    by_fallback: dict[tuple, dict] = {}
    if kind.fallback_fields:
        first = kind.fallback_fields[0]
        names = sorted({r.values.get(first) for r in plan.rows if r.values.get(kind.key_field) not in by_key})
        first_col = getattr(model, first)
        for chunk in _chunks([n for n in names if n]):
            stmt = select(*cols).where(model.org_id == plan.org.id, first_col.in_(chunk)).order_by(model.id)
            for rec in db.session.execute(stmt).mappings():
                by_fallback.setdefault(tuple(rec[f] for f in kind.fallback_fields), dict(rec))

    manageable = visible_org_ids(actor) if actor is not None else None
    org_names: dict[int, str] = {}
    claimed: dict[int, int] = {}
    for r in plan.rows:
        k = r.values.get(kind.key_field)
        rec = by_key.get(k) if k else None
        how = "key"
        if rec is None and kind.fallback_fields:
            candidate = by_fallback.get(tuple(r.values.get(f) for f in kind.fallback_fields))
            if candidate is not None and not candidate[kind.key_field]:
                rec, how = candidate, "fallback"
        if rec is None:
            continue
        if manageable is not None and rec["org_id"] not in manageable:
            plan.error(r.row, key_header, _("该%(key)s已登记在其他机构的名录库中，无权修改", key=key_header))
            continue
        if rec["id"] in claimed:
            plan.error(r.row, key_header, _("与第%(row)d行对应同一条已有记录", row=claimed[rec["id"]]))
            continue
        claimed[rec["id"]] = r.row
        r.match_id = rec["id"]
        plan.existing[rec["id"]] = rec
        if how == "fallback":
            plan.warn(
                r.row,
                _header_of(kind, kind.fallback_fields[0]),
                _("没有%(key)s，按名称和地址匹配到已有记录，已更新该记录而未新增", key=key_header),
            )
        if rec["org_id"] != plan.org.id:
            if rec["org_id"] not in org_names:
                org_names[rec["org_id"]] = db.session.get_one(Organisation, rec["org_id"]).name
            plan.warn(
                r.row,
                key_header,
                _("该记录属于“%(org)s”，已更新，所属机构不变", org=org_names[rec["org_id"]]),
            )


# ------------------------------------------------------------------------------------------- phase 2


@dataclass
class Outcome:
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    changes: dict[int, dict] = field(default_factory=dict)  # id -> {field: [old, new]}
    field_counts: dict[str, int] = field(default_factory=dict)


def write(plan: Plan) -> Outcome:
    """Phase 2: bulk insert new rows and bulk update changed ones, in the caller's transaction."""
    kind, model = plan.kind, plan.kind.model
    now = utcnow()
    outcome = Outcome()
    inserts: list[dict] = []
    updates: list[dict] = []
    for r in plan.rows:
        if r.match_id is None:
            row = dict(r.values)
            row.update(org_id=plan.org.id, public_id=new_public_id(kind.public_prefix), created_at=now, updated_at=now)
            inserts.append(row)
            continue
        old = plan.existing[r.match_id]
        changed = {f: r.values[f] for f in kind.fields if f in r.provided and f in r.values and r.values[f] != old[f]}
        if not changed:
            continue
        outcome.updated_ids.append(r.match_id)
        outcome.changes[r.match_id] = {f: [audit.plain(old[f]), audit.plain(v)] for f, v in changed.items()}
        for f in changed:
            outcome.field_counts[f] = outcome.field_counts.get(f, 0) + 1
        updates.append({"id": r.match_id, **changed, "updated_at": now})
    outcome.created_ids.extend(_insert_all(model, inserts))
    if updates:
        db.session.execute(update(model), updates)
    return outcome


def _insert_all(model: type[Any], rows: list[dict]) -> list[int]:
    """Insert the rows; their new ids, in order.

    PostgreSQL: ``INSERT … RETURNING`` over thousands of rows costs several times a plain executemany
    (psycopg pipelines it), so the ids are taken from the table's sequence first and inserted explicitly.
    Elsewhere (SQLite) the batched ``RETURNING`` is cheap.
    """
    if not rows:
        return []
    table = model.__table__
    if db.session.get_bind().dialect.name != "postgresql":
        ids: list[int] = []
        for chunk in _chunks(rows, 5000):
            ids.extend(db.session.scalars(insert(model).returning(model.id), chunk))
        return ids
    ids = list(
        db.session.execute(
            sql_text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ).scalars()
    )
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    for chunk in _chunks(rows, 5000):
        db.session.execute(insert(model), chunk)  # no RETURNING: one pipelined executemany
    return ids


def compact_ids(ids: Iterable[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` → ``"1-3,7,9-10"`` (ids of a bulk insert are mostly one run)."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(set(ids)):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [i]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(out)


# ------------------------------------------------------------------------------------------ the jobs


def upload_object(public_id: str, filename: str) -> str:
    """The storage name of a job's uploaded file (in the storage backend, so any worker can read it)."""
    return f"imports/{public_id}{extension(filename)}"


def job_upload(job: ImportJob) -> str:
    return upload_object(job.public_id, job.filename)


def create_job(kind: str, org: Organisation, filename: str, stream: IO[bytes], actor: Any) -> ImportJob:
    """Save the upload in the storage backend (``imports/<job>.<ext>``) and add the pending job to the session
    (the caller commits before :func:`start_job`).

    Raises ImportFileError (nothing kept) for a file of the wrong type or with too many rows.
    """
    filename = os.path.basename((filename or "").replace("\\", "/")).strip() or "upload"
    check_extension(filename)
    ext = extension(filename)
    if len(filename) > 100:
        filename = filename[: 100 - len(ext)] + ext
    job = ImportJob(
        public_id=new_public_id("J"),
        kind=kind,
        org_id=org.id,
        filename=filename,
        status="pending",
        created_by_id=getattr(actor, "id", None),
    )
    name = job_upload(job)
    storage.put_object(name, stream)
    try:
        with storage.local_copy(name) as path:
            estimate = estimate_rows(str(path), filename)
        max_rows = current_app.config["IMPORT_MAX_ROWS"]
        if estimate > max_rows:
            raise ImportFileError(
                _("文件约有%(rows)d行，超过单次导入上限%(n)d行，请拆分后分批导入", rows=estimate, n=max_rows)
            )
    except ImportFileError:
        discard_upload(name)
        raise
    job.total_rows = estimate
    db.session.add(job)
    db.session.flush()
    return job


def _set_job(job_id: int, **values: Any) -> None:
    jobs.set_row(ImportJob, job_id, **values)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


TASK = "imports.run"  # the queue task (defined in webapp.worker) that runs :func:`run_job`


def run_job(job_id: int) -> ImportJob:
    """Run an import job to its end (done or failed) in the current app context; its file is then deleted.

    A job that is not pending any more (another worker took it, or it was given up) is left as it is.
    """
    job = db.session.get_one(ImportJob, job_id)
    name = job_upload(job)
    db.session.commit()  # end the read transaction: progress is written from another connection
    if not jobs.claim(ImportJob, job_id):
        log.warning("import %s is %s, not pending: not run", job.public_id, job.status)
        return job
    try:
        with jobs.heartbeat(ImportJob, job_id), storage.local_copy(name) as path:
            return _run(job_id, str(path))
    except Exception:
        log.exception("import job %s crashed", job_id)
        _import_crashed(job_id)
        return db.session.get_one(ImportJob, job_id)
    finally:
        _keep_error_rows(job_id)
        discard_upload(name)


def _run(job_id: int, path: str) -> ImportJob:
    job = db.session.get_one(ImportJob, job_id)
    kind = get_kind(job.kind)
    org = db.session.get_one(Organisation, job.org_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    db.session.commit()

    def progress(n: int) -> None:
        _set_job(job_id, processed_rows=n, heartbeat_at=utcnow())

    try:
        plan = validate(
            kind, path, job.filename, org, actor, max_rows=current_app.config["IMPORT_MAX_ROWS"], progress=progress
        )
    except ImportFileError as e:
        return _fail(job_id, [{"row": None, "column": "", "message": e.message}])
    except Exception:
        log.exception("import %s: validation crashed", job.public_id)
        return _fail(job_id, [{"row": None, "column": "", "message": _("导入出错，未导入任何数据，请联系管理员")}])
    total = len(plan.rows) + len({e["row"] for e in plan.errors if e["row"] and e["row"] > 1})
    if plan.errors:
        entries = plan.errors + plan.warnings
        if plan.errors_truncated:
            entries.append({"row": None, "column": "", "message": _("错误过多，仅列出前%(n)d条", n=MAX_STORED_ERRORS)})
        return _fail(job_id, entries, total_rows=total)

    try:
        outcome = write(plan)
        job = db.session.get_one(ImportJob, job_id)
        db.session.refresh(job)
        job.status = "done"
        job.total_rows = job.processed_rows = len(plan.rows)
        job.created_count = len(outcome.created_ids)
        job.updated_count = len(outcome.updated_ids)
        job.errors = json.dumps(plan.warnings, ensure_ascii=False) if plan.warnings else None
        job.finished_at = utcnow()
        data: dict[str, Any] = {
            "file": job.filename,
            "sha256": _sha256(path),
            "org_id": org.id,
            "rows": len(plan.rows),
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": len(plan.rows) - job.created_count - job.updated_count,
            "created_ids": compact_ids(outcome.created_ids),
            "updated_ids": compact_ids(outcome.updated_ids),
            "changed_fields": outcome.field_counts,
        }
        if len(outcome.changes) <= AUDIT_DIFF_LIMIT:
            data["changes"] = {str(k): v for k, v in sorted(outcome.changes.items())}
        audit.record(actor, kind.audit_action, job, data, org_id=org.id)
        db.session.commit()
        if kind.model is Unit and (outcome.created_ids or outcome.updated_ids):
            forget_regions()  # bulk statements bypass the ORM events that keep the region list fresh
    except Exception:
        db.session.rollback()
        log.exception("import %s: write failed, rolled back", job.public_id)
        return _fail(
            job_id,
            [{"row": None, "column": "", "message": _("写入数据库时出错，已全部撤销，未导入任何数据。请稍后重试")}],
        )
    return job


def _fail(job_id: int, entries: list[dict], total_rows: int | None = None) -> ImportJob:
    values: dict[str, Any] = {
        "status": "failed",
        "errors": json.dumps(entries, ensure_ascii=False),
        "finished_at": utcnow(),
        "created_count": 0,
        "updated_count": 0,
    }
    if total_rows is not None:
        values["total_rows"] = values["processed_rows"] = total_rows
    db.session.rollback()
    _set_job(job_id, **values)
    job = db.session.get_one(ImportJob, job_id)
    db.session.refresh(job)
    return job


def _message(text: str) -> str:
    return json.dumps([{"row": None, "column": "", "message": text}], ensure_ascii=False)


def _import_crashed(job_id: int) -> None:
    db.session.rollback()
    _set_job(job_id, status="failed", finished_at=utcnow(), errors=_message(_("导入出错，未导入任何数据")))


def start_job(job: ImportJob) -> None:
    """Run the job on a worker (the queue task ``imports.run``; ``IMPORT_BACKGROUND``, default) or right here."""
    try:
        jobs.start(TASK, run_job, job.id, config_key="IMPORT_BACKGROUND")
    except Exception:  # the queue is unreachable (Redis down …): say so at once rather than wait for a worker
        log.exception("import %s could not be queued", job.public_id)
        _set_job(
            job.id,
            status="failed",
            finished_at=utcnow(),
            errors=_message(_("后台任务服务暂时不可用，未导入任何数据，请稍后重新上传")),
        )
        discard_upload(job_upload(job))


def import_file(kind: str, org: Organisation, path: str, actor: Any = None) -> ImportJob:
    """Import a file synchronously (the CLI): create the job from ``path`` and run it here."""
    with open(path, "rb") as fh:
        job = create_job(kind, org, os.path.basename(path), fh, actor)
    db.session.commit()
    return run_job(job.id)


def discard_upload(name: str) -> None:
    """Delete an import's uploaded file from storage (its job ended); a file already gone is fine."""
    try:
        storage.delete_object(name)
    except FileNotFoundError:
        pass
    except Exception:
        log.warning("could not delete the import file %s", name, exc_info=True)


def errors_object(job: ImportJob) -> str:
    """The storage name of a failed job's error workbook (its bad rows, kept after the upload is deleted)."""
    return f"imports/{job.public_id}-errors.xlsx"


def _keep_error_rows(job_id: int) -> None:
    """A job that failed on rows keeps its error workbook in storage (the upload itself is deleted)."""
    from webapp.registry.imports import workbooks  # it reads jobs through this module

    try:
        job = db.session.get_one(ImportJob, job_id)
        db.session.refresh(job)
        if job.status != "failed":
            return
        out = workbooks.build_errors_xlsx(job)
        if out is not None:
            with out:
                storage.put_object(errors_object(job), out.read())
    except Exception:
        db.session.rollback()
        log.exception("import job %s: the error workbook was not kept", job_id)


def _stuck_values(status: str) -> dict[str, Any]:
    if status == "pending":
        message = _("导入超过30分钟仍未完成，已中断，未导入任何数据，请重新上传")
    else:
        message = _("后台处理中断（服务重启或故障），请重新上传文件")
    return {"errors": _message(message), "created_count": 0, "updated_count": 0}


def fail_stuck_jobs(ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Mark failed the import jobs (all, or ``ids``) whose worker is gone and delete their files; how many.

    Called every minute by the worker (``webapp.worker.check_jobs``) and for the job a page shows. Writes in its
    own short transactions (:func:`webapp.jobs.fail_stuck`).
    """
    failed = jobs.fail_stuck(ImportJob, _stuck_values, ids=ids, now=now)
    if failed:
        rows = db.session.execute(select(ImportJob.public_id, ImportJob.filename).where(ImportJob.id.in_(failed)))
        for public_id, filename in rows:
            discard_upload(upload_object(public_id, filename))
    return len(failed)
