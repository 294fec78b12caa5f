"""Dashboard exports (.xlsx and .csv): tasks, results and rectifications in the layouts supervisors re-key
elsewhere, as tables a spreadsheet sorts and filters (typed cells, bold frozen header, widths, autofilter).
Every column is described in docs/exports.md.

- tasks: the joint check form's columns, with the task and draw ids, 检查类型, 主办 and 协办 apart, and the
  draw's state (an abandoned draw's tasks are kept, 作废, and marked).
- results: the national platform's result entry (检查对象名称 … 检查结果（公示类别）, 检查机关) followed by
  the ids that join it back (任务编号, 抽取编号), 检查类型, 主办/协办, 检查表结果, the problems, 公示期限 and 公示日期.
- rectifications: 文书编号, 单位, 期限, 状态, 复查结果.

Each export is one SQL query (joins; inspectors come as extra rows of the same query, ordered so that a
record's rows are adjacent and folded while streaming). Rows go straight into a write-only workbook;
labels are resolved once. Scope is ``visible_org_ids`` of the actor. Every export is audited with its
row count.

The dashboard card starts an :class:`ExportJob` (kind + period) that runs on :mod:`webapp.jobs`' runner (a
worker process takes it from the job queue); see "background export jobs" below. The direct GET routes call
:func:`export` at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import openpyxl
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import String, cast, func, select

from webapp import audit, calendar, jobs, storage, xlsx
from webapp.auth import access
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.catalog.models import ItemVersion
from webapp.dashboard.models import ExportJob
from webapp.db import utcnow
from webapp.draw.labels import DRAW_STATUS
from webapp.draw.models import Draw, DrawStatus
from webapp.extensions import db
from webapp.inspections.labels import CATEGORY_LABELS, RESULT_LABELS
from webapp.inspections.models import Finding, Inspection, InspectionStatus, superseded
from webapp.rectification.models import OrderStatus, RectificationOrder
from webapp.registry.models import Inspector, Unit
from webapp.tasks.labels import TASK_KIND
from webapp.tasks.models import Task, TaskAssignment, TaskStatus
from webapp.web import ServiceError

log = logging.getLogger(__name__)

KINDS = ("tasks", "results", "rectifications")


class Period:
    """Optional ``?year=`` / ``?month=`` filter (month only counts together with a year)."""

    def __init__(self, args: Any):
        self.year = _int(args.get("year"), 2000, 2100)
        self.month = _int(args.get("month"), 1, 12) if self.year else None

    def bounds(self) -> tuple[dt.date, dt.date] | None:
        """[first day, first day after) in local dates, or None for no filter."""
        if not self.year:
            return None
        if self.month:
            start = dt.date(self.year, self.month, 1)
            end = dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        else:
            start, end = dt.date(self.year, 1, 1), dt.date(self.year + 1, 1, 1)
        return start, end

    def to_args(self) -> dict[str, int]:
        return {k: v for k, v in (("year", self.year), ("month", self.month)) if v}

    def suffix(self) -> str:
        if not self.year:
            return ""
        return f"-{self.year}" + (f"{self.month:02d}" if self.month else "")


def _int(value: Any, lo: int, hi: int) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if lo <= n <= hi else None


def _scoped(stmt, column, actor: Any):
    orgs = visible_org_ids(actor)
    return stmt if orgs is None else stmt.where(column.in_(orgs))


def _fold(rows: Iterable[Any]) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    """Rows ``(key, *fields, role, inspector_name)`` ordered by key → ``(first row, {role: [names]})``."""
    current: Any = None
    names: dict[str, list[str]] = {"lead": [], "assist": []}
    for row in rows:
        if current is not None and row[0] != current[0]:
            yield current, names
            current, names = None, {"lead": [], "assist": []}
        if current is None:
            current = row
        role, name = row[-2], row[-1]
        bucket = names["lead" if role == "lead" else "assist"]
        if name and name not in bucket:
            bucket.append(name)
    if current is not None:
        yield current, names


def _assignments():
    """Active assignments joined to their inspector: (task_id, slot, id, role, name)."""
    return (
        select(TaskAssignment.task_id, TaskAssignment.slot, TaskAssignment.id, TaskAssignment.role, Inspector.name)
        .join(Inspector, Inspector.id == TaskAssignment.inspector_id)
        .where(TaskAssignment.active.is_(True))
        .subquery()
    )


def task_status_labels() -> dict[str, str]:
    return {
        TaskStatus.PLANNED: _("待检查"),
        TaskStatus.IN_PROGRESS: _("检查中"),
        TaskStatus.SUBMITTED: _("已完成"),
        TaskStatus.CANCELLED: _("已作废"),
    }


def order_status_labels() -> dict[str, str]:
    return {
        OrderStatus.PENDING: _("待复查"),
        OrderStatus.RECTIFIED: _("已改正"),
        OrderStatus.NOT_RECTIFIED: _("逾期未改正"),
    }


def _columns(kind: str) -> list[tuple[str, int]]:
    """(header, width in characters) of each column of ``kind``; docs/exports.md describes every one."""
    if kind == "tasks":  # the joint check form's columns, one row per task, then the ids and the draw's state
        return [
            (_("任务编号"), 16),
            (_("检查对象名称"), 32),
            (_("统一社会信用代码"), 22),
            (_("抽查事项"), 40),
            (_("计划检查日期"), 13),
            (_("主办人员"), 12),
            (_("协办人员"), 16),
            (_("任务状态"), 10),
            (_("检查机关"), 24),
            (_("检查类型"), 14),
            (_("抽取编号"), 16),
            (_("抽取状态"), 18),
        ]
    if kind == "results":  # the national platform's result entry, plus the ids that join it back
        return [
            (_("检查对象名称"), 32),
            (_("统一社会信用代码"), 22),
            (_("抽查事项"), 40),
            (_("检查日期"), 12),
            (_("检查结果（公示类别）"), 28),
            (_("检查机关"), 24),
            (_("任务编号"), 16),
            (_("抽取编号"), 16),
            (_("检查类型"), 14),
            (_("主办人员"), 12),
            (_("协办人员"), 16),
            (_("检查表结果"), 14),
            (_("发现的问题"), 50),
            (_("公示期限"), 12),
            (_("公示日期"), 12),
        ]
    return [
        (_("文书编号"), 22),
        (_("单位"), 32),
        (_("统一社会信用代码"), 22),
        (_("期限"), 12),
        (_("状态"), 12),
        (_("复查结果"), 14),
        (_("检查机关"), 24),
    ]


def _headers(kind: str) -> list[str]:
    return [h for h, _w in _columns(kind)]


def tasks_query(actor: Any, period: Period):
    a = _assignments()
    stmt = (
        select(
            Task.id,
            Task.public_id,
            Draw.public_id,
            Draw.status,
            Task.kind,
            Unit.name,
            Unit.uscc,
            ItemVersion.name,
            Task.planned_date,
            Task.status,
            Organisation.name,
            a.c.role,
            a.c.name,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .join(Organisation, Organisation.id == Task.org_id)
        .outerjoin(Draw, Draw.id == Task.draw_id)
        .outerjoin(a, a.c.task_id == Task.id)
        .order_by(Task.planned_date, Task.id, a.c.slot, a.c.id)
    )
    if b := period.bounds():
        stmt = stmt.where(Task.planned_date >= b[0], Task.planned_date < b[1])
    return _scoped(stmt, Task.org_id, actor)


def _problems():
    """The problems (发现的问题) of each inspection as one text, numbered in the record's order.

    PostgreSQL orders ``string_agg`` explicitly; SQLite before 3.44 has no ``ORDER BY`` in ``group_concat`` and
    concatenates in the order of the ordered subquery."""
    numbered = (
        select(
            Finding.inspection_id,
            Finding.seq,
            (cast(Finding.seq, String) + ". " + Finding.text).label("line"),
        )
        .order_by(Finding.inspection_id, Finding.seq)
        .subquery()
    )
    text = func.aggregate_strings(numbered.c.line, "\n")
    if db.session.get_bind().dialect.name == "postgresql":
        text = text.aggregate_order_by(numbered.c.seq)
    return select(numbered.c.inspection_id, text.label("text")).group_by(numbered.c.inspection_id).subquery()


def results_query(actor: Any, period: Period):
    """Submitted inspections that no later submitted inspection supersedes (the result in force)."""
    a = _assignments()
    problems = _problems()
    stmt = (
        select(
            Inspection.id,
            Unit.name,
            Unit.uscc,
            ItemVersion.name,
            Inspection.checkin_at,
            Inspection.submitted_at,
            Inspection.category,
            Organisation.name,
            Task.public_id,
            Draw.public_id,
            Draw.status,
            Task.kind,
            Inspection.result,
            problems.c.text,
            Inspection.publish_due_on,
            Inspection.published_at,
            a.c.role,
            a.c.name,
        )
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .join(Organisation, Organisation.id == Inspection.org_id)
        .outerjoin(Draw, Draw.id == Task.draw_id)
        .outerjoin(problems, problems.c.inspection_id == Inspection.id)
        .outerjoin(a, a.c.task_id == Task.id)
        .where(Inspection.status == InspectionStatus.SUBMITTED, ~superseded())
        .order_by(Inspection.submitted_at, Inspection.id, a.c.slot, a.c.id)
    )
    if b := period.bounds():
        stmt = stmt.where(
            Inspection.submitted_at >= calendar.day_start_utc(b[0]),
            Inspection.submitted_at < calendar.day_start_utc(b[1]),
        )
    return _scoped(stmt, Inspection.org_id, actor)


def rectifications_query(actor: Any, period: Period):
    o = RectificationOrder
    stmt = (
        select(o.id, o.number, Unit.name, Unit.uscc, o.deadline, o.status, o.outcome, o.problems, Organisation.name)
        .join(Unit, Unit.id == o.unit_id)
        .join(Organisation, Organisation.id == o.org_id)
        .order_by(o.issued_on, o.id)
    )
    if b := period.bounds():
        stmt = stmt.where(o.issued_on >= b[0], o.issued_on < b[1])
    return _scoped(stmt, o.org_id, actor)


def _outcome_text(status: Any, outcome: list | None, problems: list | None) -> str:
    if not outcome:
        return ""
    total = len(problems or outcome)
    fixed = sum(1 for v in outcome if v)
    return _("%(fixed)d/%(total)d项已改正", fixed=fixed, total=total)


def _draw_state(status: Any) -> str:
    """抽取状态 of a task's draw: an abandoned draw's tasks are marked (they are kept, 作废, never deleted)."""
    if status is None:
        return _("非抽取任务")
    return _("已放弃（任务作废）") if status == DrawStatus.ABANDONED else str(DRAW_STATUS.get(status, ""))


def _published_on(published_at: dt.datetime | None, due: dt.date | None, today: dt.date) -> dt.date | None:
    """The day the result became public: stamped, or its deadline once passed (the public site shows it then)."""
    if published_at is not None:
        return calendar.local_date(published_at)
    return due if due is not None and due <= today else None


def _rows(kind: str, actor: Any, period: Period) -> Iterator[list[Any]]:
    kinds = {k: str(v) for k, v in TASK_KIND.items()}
    if kind == "tasks":
        labels = task_status_labels()
        query = tasks_query(actor, period).execution_options(yield_per=2000)
        for r, names in _fold(db.session.execute(query)):
            yield [
                r[1],
                r[5],
                r[6] or "",
                r[7],
                r[8],
                "、".join(names["lead"]),
                "、".join(names["assist"]),
                labels.get(r[9], ""),
                r[10],
                kinds.get(r[4], ""),
                r[2] or "",
                _draw_state(r[3]),
            ]
    elif kind == "results":
        cats = {k: str(v) for k, v in CATEGORY_LABELS.items()}
        results = {k: str(v) for k, v in RESULT_LABELS.items()}
        today = calendar.today()
        query = results_query(actor, period).execution_options(yield_per=2000)
        for r, names in _fold(db.session.execute(query)):
            checked = r[4] or r[5]
            yield [
                r[1],
                r[2] or "",
                r[3],
                calendar.local_date(checked) if checked else None,
                cats.get(r[6], ""),
                r[7],
                r[8],
                r[9] or "",
                kinds.get(r[11], ""),
                "、".join(names["lead"]),
                "、".join(names["assist"]),
                results.get(r[12], ""),
                r[13] or "",
                r[14],
                _published_on(r[15], r[14], today),
            ]
    else:
        labels = order_status_labels()
        query = rectifications_query(actor, period).execution_options(yield_per=2000)
        for r in db.session.execute(query):
            yield [r[1], r[2], r[3] or "", r[4], labels.get(r[5], ""), _outcome_text(*r[5:8]), r[8]]


def titles() -> dict[str, str]:
    return {"tasks": _("检查任务"), "results": _("检查结果"), "rectifications": _("整改复查")}


def export(
    kind: str,
    actor: Any,
    args: Any,
    progress: Callable[[int], None] | None = None,
    job: Any = None,
) -> tuple[IO[bytes], int, str]:
    """Build the workbook for ``kind``; returns (file at 0, row count, download name). Audited (in the session:
    the caller commits).

    ``progress(n)`` is called every ``PROGRESS_EVERY`` rows written; ``job`` (an ExportJob) is named in the
    audit event when the export runs as a background job.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    period = Period(args)
    count = 0
    with force_locale("zh_Hans"):
        title = titles()[kind]
        columns = _columns(kind)

    def fill(wb: openpyxl.Workbook) -> None:
        nonlocal count
        ws = xlsx.sheet(wb, title)  # typed, formula-safe cells: a unit named "=HYPERLINK(…)" stays text
        ws.table_header([h for h, _w in columns], [w for _h, w in columns])  # bold, frozen, widths
        with force_locale("zh_Hans"):  # labels resolved once per export, in Chinese
            for row in _rows(kind, actor, period):
                ws.append(row)
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count)
        ws.close_table()  # autofilter over every row

    out = xlsx.spooled_workbook(fill)
    _audit(kind, actor, period, count, job)
    return out, count, _file_name(title, period, "xlsx")


def export_csv(kind: str, actor: Any, args: Any) -> tuple[bytes, int, str]:
    """The same rows as :func:`export` as CSV (UTF-8 with BOM; dates ISO; formula-safe). Audited."""
    if kind not in KINDS:
        raise ValueError(kind)
    period = Period(args)
    with force_locale("zh_Hans"):
        title = titles()[kind]
        rows = [_headers(kind), *_rows(kind, actor, period)]
    count = len(rows) - 1
    _audit(kind, actor, period, count, None, "csv")
    return xlsx.csv_bytes(rows), count, _file_name(title, period, "csv")


def _audit(kind: str, actor: Any, period: Period, count: int, job: Any, fmt: str = "xlsx") -> None:
    data: dict[str, Any] = {"rows": count, "filters": period.to_args()}
    if fmt != "xlsx":
        data["format"] = fmt
    if job is not None:
        data["job"] = job.public_id
    audit.record(actor, f"export.{kind}", ("organisation", actor.org_id), data, org_id=actor.org_id)


def _file_name(title: str, period: Period, ext: str) -> str:
    return f"{title}{period.suffix() or '-' + calendar.today().strftime('%Y%m%d')}.{ext}"


def count_rows(kind: str, actor: Any, period: Period) -> int:
    """Records the export of ``kind`` will write (one aggregate query; inspectors' extra rows not counted)."""
    query = {"tasks": tasks_query, "results": results_query, "rectifications": rectifications_query}[kind]
    stmt = query(actor, period)
    key = stmt.selected_columns[0]
    keys = stmt.with_only_columns(key).order_by(None).distinct().subquery()
    return db.session.execute(select(func.count()).select_from(keys)).scalar_one()


# ------------------------------------------------------------------------------ background export jobs
#
# The card on /dashboard/ posts kind + period; an ExportJob row is created and run by a worker process (the
# queue task ``exports.run``; config ``EXPORT_BACKGROUND``, default on; tests run it inline) on
# :mod:`webapp.jobs`' runner (``jobs.start``, ``jobs.claim``, ``jobs.heartbeat``, ``jobs.set_row``). Progress is
# written in its own short transaction; the finished workbook goes to the app's storage (``storage_key``). A job
# whose worker died is marked failed by :func:`fail_stuck_jobs` (the worker's check every minute, the job page
# and the card).

PROGRESS_EVERY = 500
RECENT_JOBS = 5


class PeriodError(ServiceError):
    """The chosen period or kind is not valid; ``errors`` maps a form field to a Chinese message."""


def clean_request(form: Any) -> tuple[str, dict[str, int]]:
    """``kind``, ``year``, ``month`` (0 or empty = 全年) from the card's form → (kind, params)."""
    errors: dict[str, str] = {}
    kind = str(form.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = _("请选择要导出的内容")
    year = _int(form.get("year"), 2000, 2100)
    if year is None:
        errors["year"] = _("请选择有效的年份")
    raw_month = str(form.get("month") or "").strip()
    month = None
    if raw_month not in ("", "0"):
        month = _int(raw_month, 1, 12)
        if month is None:
            errors["month"] = _("请选择全年或1至12月")
    if errors:
        raise PeriodError(errors)
    params = {"year": year}
    if month:
        params["month"] = month
    return kind, params


def year_choices(actor: Any, today: dt.date | None = None, last: int = 3) -> list[int]:
    """Years to offer, newest first: from the first planned task in scope to this year (at most 10), or the
    last few years when there is no data yet."""
    today = today or calendar.today()
    stmt = _scoped(select(func.min(Task.planned_date), func.max(Task.planned_date)), Task.org_id, actor)
    first, latest = db.session.execute(stmt).one()
    newest = max(today.year, latest.year if latest else today.year)
    oldest = first.year if first else today.year - last + 1
    oldest = max(min(oldest, today.year - last + 1), newest - 9)
    return list(range(newest, oldest - 1, -1))


def create_job(kind: str, params: dict[str, int], actor: Any) -> ExportJob:
    """The pending job, added to the session (the caller commits before :func:`start_job`)."""
    job = ExportJob(kind=kind, params=params, status="pending", created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    return job


TASK = "exports.run"  # the queue task (defined in webapp.worker) that runs :func:`run_job`


def start_job(job: ExportJob) -> None:
    """Run the export on a worker (``EXPORT_BACKGROUND``, default) or right here."""
    try:
        jobs.start(TASK, run_job, job.id, config_key="EXPORT_BACKGROUND")
    except Exception:  # the queue is unreachable (Redis down …): say so at once rather than wait for a worker
        log.exception("export %s could not be queued", job.public_id)
        _set(job.id, status="failed", error=_("后台任务服务暂时不可用，请稍后重新导出"), finished_at=utcnow())


def _set(job_id: int, **values: Any) -> None:
    jobs.set_row(ExportJob, job_id, **values)


def _failed_message() -> str:
    return _("导出失败，未生成文件。请稍后重试，如仍失败请联系管理员。")


def _crashed(job_id: int) -> None:
    db.session.rollback()
    _set(job_id, status="failed", error=_failed_message(), finished_at=utcnow())


def run_job(job_id: int) -> ExportJob:
    """Count, write the workbook with progress, store it, mark the job done (or failed).

    A job that is not pending any more (another worker took it, or it was given up) is left as it is.
    """
    job = db.session.get_one(ExportJob, job_id)
    actor = db.session.get_one(User, job.created_by_id)
    kind, params = job.kind, dict(job.params or {})
    db.session.commit()  # end the read transaction: progress is written from another connection
    if not jobs.claim(ExportJob, job_id):
        log.warning("export %s is %s, not pending: not run", job.public_id, job.status)
        return job
    with jobs.heartbeat(ExportJob, job_id):
        _run(job_id, job, actor, kind, params)
    job = db.session.get_one(ExportJob, job_id)
    db.session.refresh(job)
    return job


def _run(job_id: int, job: ExportJob, actor: User, kind: str, params: dict) -> None:
    try:
        total = count_rows(kind, actor, Period(params))
        _set(job_id, status="running", total_rows=total, processed_rows=0)
        out, count, name = export(
            kind, actor, params, lambda n: _set(job_id, processed_rows=n, heartbeat_at=utcnow()), job
        )
        db.session.commit()  # the audit event
        with out:
            key = storage.put(out.read(), "xlsx")
        _set(
            job_id,
            status="done",
            total_rows=count,
            processed_rows=count,
            filename=name,
            storage_key=key,
            finished_at=utcnow(),
        )
    except Exception:
        log.exception("export job %s failed", job_id)
        _crashed(job_id)


def get_job(user: Any, public_id: str) -> ExportJob | None:
    """The job if ``user`` created it, else None (→ 404)."""
    job = db.session.execute(select(ExportJob).where(ExportJob.public_id == public_id)).scalar_one_or_none()
    if job is None or not access.can_view_export(user, job):
        return None
    return job


def _stuck_values(status: str) -> dict[str, Any]:
    if status == "pending":
        return {"error": _("导出超过30分钟仍未完成，已中断，请重新导出")}
    return {"error": _("导出失败：后台处理中断（服务重启或故障），未生成文件，请重新导出")}


def fail_stuck_jobs(ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Mark failed the export jobs (all, or ``ids``) whose worker is gone; how many. Called every minute by the
    worker (``webapp.worker.check_jobs``) and for the jobs a page shows; its own short transactions."""
    return len(jobs.fail_stuck(ExportJob, _stuck_values, ids=ids, now=now))


def open_file(job: ExportJob) -> IO[bytes]:
    return storage.open(job.storage_key, "xlsx")


def recent_jobs(user: Any, limit: int = RECENT_JOBS) -> list[ExportJob]:
    """The user's newest jobs; one whose worker is gone is marked failed first (not left 进行中)."""
    stmt = select(ExportJob).where(ExportJob.created_by_id == user.id).order_by(ExportJob.id.desc()).limit(limit)
    found = list(db.session.execute(stmt).scalars())
    running = [j.id for j in found if j.status in jobs.RUNNING]
    if running and fail_stuck_jobs(running):
        for j in found:
            db.session.refresh(j)
    return found


def export_card(
    user: Any, chosen: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """What the export card (``dashboard/_exports.html``, as ``card``) shows: the period picker (with the user's
    choice kept) and their recent jobs."""
    today = calendar.today()
    chosen = chosen or {"kind": "", "year": str(today.year), "month": ""}
    return {
        "years": year_choices(user, today),
        "chosen": chosen,
        "errors": errors or {},
        "jobs": recent_jobs(user),
        "titles": titles(),
        "period_label": period_label,
    }


def period_label(params: dict | None) -> str:
    params = params or {}
    if not params.get("year"):
        return _("全部")
    if params.get("month"):
        return _("%(y)d年%(m)d月", y=params["year"], m=params["month"])
    return _("%(y)d年全年", y=params["year"])
