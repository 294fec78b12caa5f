"""Bulk import and export of the two libraries (两库): one generic engine, one ``ImportKind`` per library.

An import is an :class:`~webapp.registry.models.ImportJob` over a file saved under ``instance/imports/``:

1. **Validate everything** (phase 1): every row goes through the library's one validation function
   (``clean_unit`` / ``clean_inspector``); duplicates inside the file and conflicts with records of
   organisations the user cannot manage are errors too. All errors are collected with the row number as
   the spreadsheet shows it (header = row 1), the column header and a Chinese message.
2. **All or nothing** (phase 2, only when phase 1 found no error): every row is written in ONE transaction
   with bulk statements; existing records are matched by their key (USCC / 执法证件号) and only changed
   fields are updated. One audit event (``import.units`` …) records the file's SHA-256 and what changed.

Progress (``processed_rows``) is written every ~1000 rows in its own short transaction so any process
polling the job sees it; the data itself stays one transaction. The work runs in a background thread
(config ``IMPORT_BACKGROUND``, default on) with its own app context; tests run it inline.

Files: ``.xlsx`` (openpyxl, read-only, values only) and ``.csv`` (UTF-8 with or without BOM, or GB18030
as Chinese Excel saves it). Cells are normalised to text before validation.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import openpyxl
from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from sqlalchemy import insert, select, update
from sqlalchemy import text as sql_text

from webapp import audit
from webapp.auth.models import Organisation, User
from webapp.auth.permissions import visible_org_ids
from webapp.db import new_public_id, utcnow
from webapp.extensions import db
from webapp.registry.models import ImportJob, Unit
from webapp.registry.units.columns import UNIT_COLUMNS, Column, clean_unit

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".xlsx", ".csv")
PROGRESS_EVERY = 1000
STALE_AFTER = dt.timedelta(minutes=30)
LOOKUP_CHUNK = 2000  # keys per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits
MAX_STORED_ERRORS = 50_000
AUDIT_DIFF_LIMIT = 1000  # updated records whose {field: [old, new]} go into the audit event in full
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is tolerated
ERROR_COLUMN = "错误说明"
ROW_COLUMN = "原行号"
RUNNING = ("pending", "running")


class ImportFileError(Exception):
    """The file cannot be read as a table (wrong type, damaged, too many rows …). ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------------------ the kinds


@dataclass(frozen=True)
class ImportKind:
    """What differs between the libraries; the engine does the rest."""

    name: str  # "units" | "inspectors" (ImportJob.kind)
    model: type
    columns: tuple[Column, ...]
    key_field: str  # unique natural key: existing records are matched on it
    clean: Callable[[dict[str, str | None], Organisation], tuple[dict, dict[str, str]]]
    title: Any  # lazy Chinese name of the library
    list_endpoint: str
    public_prefix: str  # new_public_id prefix of the model
    # Rows without a key (or whose key is new) match an existing record of the target organisation with
    # the same values in these fields (and no key of its own) instead of creating a duplicate.
    fallback_fields: tuple[str, ...] = ()
    example: tuple[str, ...] = ()  # the template's example row (texts, in column order)
    notes: dict[str, Any] = field(default_factory=dict)  # field -> how to fill it (docs, template)
    to_text: Callable[[str, Any], Any] | None = None  # export: stored value -> cell value clean() accepts
    unique_fields: tuple[str, ...] = ()  # besides the key, values no two rows of a file may share
    # Checks that depend on who imports (e.g. may this person link that account?): field -> Chinese message.
    check_row: Callable[[dict, Any], dict[str, str]] | None = None

    @property
    def audit_action(self) -> str:
        return f"import.{self.name}"

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)

    @property
    def example_key(self) -> str | None:
        if not self.example:
            return None
        return self.example[self.fields.index(self.key_field)] or None


UNIT_NOTES: dict[str, Any] = {
    "name": _l("必填，不超过200字"),
    "uscc": _l("18位，校验位须正确；已登记的单位按此代码匹配并更新，不会重复新增。请把该列设为“文本”格式"),
    "address": _l("不超过300字；没有统一社会信用代码时，按“单位名称+地址”匹配已有单位"),
    "region": _l("不超过100字，如乡镇（街道）"),
    "industry": _l("不超过100字"),
    "legal_rep": _l("不超过50字"),
    "safety_person": _l("不超过50字"),
    "contact_name": _l("不超过50字"),
    "contact_phone": _l("手机11位或座机，如 0379-67713119"),
    "unit_class": _l("消防安全重点单位、一般单位、九小场所、其他单位（也可写“重点”“一般”“九小”“其他”）"),
    "crowded": _l("是 / 否；人员密集场所应属于消防安全重点单位"),
    "risk_level": _l("红、黄、蓝、绿（重大、较大、一般、低风险）；空白为蓝"),
    "credit_level": _l("良好、一般、较差；空白为一般"),
    "complaint_count": _l("非负整数；空白为0"),
    "serious_violation": _l("是 / 否；空白为否"),
}

UNIT_EXAMPLE = (
    "洛阳市偃师区示例商贸有限公司",
    "91410381MA9K7X0L0L",
    "洛阳市偃师区商城路18号",
    "商城街道",
    "批发和零售业",
    "王某某",
    "王某某",
    "李某某",
    "13800138000",
    "一般单位",
    "否",
    "蓝",
    "一般",
    "0",
    "否",
)


def _unit_clean(raw: dict[str, str | None], org: Organisation) -> tuple[dict, dict[str, str]]:
    return clean_unit(raw)


def _unit_labels() -> dict[str, dict]:
    from webapp.registry.labels import CREDIT_LEVEL, RISK_LEVEL, UNIT_CLASS

    return {"unit_class": UNIT_CLASS, "risk_level": RISK_LEVEL, "credit_level": CREDIT_LEVEL}


def _unit_to_text(field_name: str, value: Any) -> Any:
    return _cell_out(value, _unit_labels().get(field_name))


def _zh_labels(labels_by_field: dict[str, dict]) -> dict[str, dict[Any, str]]:
    """The labels as Chinese text, resolved once (an export must not switch locale for every cell)."""
    with force_locale("zh_Hans"):
        return {f: {k: str(v) for k, v in labels.items()} for f, labels in labels_by_field.items()}


UNITS = ImportKind(
    name="units",
    model=Unit,
    columns=UNIT_COLUMNS,
    key_field="uscc",
    clean=_unit_clean,
    title=_l("检查对象名录库"),
    list_endpoint="registry.units",
    public_prefix="U",
    fallback_fields=("name", "address"),
    example=UNIT_EXAMPLE,
    notes=UNIT_NOTES,
    to_text=_unit_to_text,
)


def _inspectors_kind() -> ImportKind:
    """Built on first use: ``webapp.registry.inspectors.services`` owns the inspector columns and validation."""
    from webapp.registry.inspectors import services as mod
    from webapp.registry.models import Inspector

    def clean(raw: dict[str, str | None], org: Organisation) -> tuple[dict, dict[str, str]]:
        return mod.clean_inspector(raw, org_dept=org.dept)

    def check_row(values: dict, actor: Any) -> dict[str, str]:
        manageable = visible_org_ids(actor) if actor is not None else None
        if manageable is None or values.get("user_id") is None:
            return {}
        account = db.session.get(User, values["user_id"])
        if account.org_id not in manageable:
            return {"user_id": str(_l("账号“%(u)s”属于您无权管理的机构", u=account.username))}
        return {}

    notes = dict(getattr(mod, "INSPECTOR_NOTES", {}))
    return ImportKind(
        name="inspectors",
        model=Inspector,
        columns=mod.INSPECTOR_COLUMNS,
        key_field="cert_no",
        clean=clean,
        title=_l("执法检查人员名录库"),
        list_endpoint="registry.inspectors",
        public_prefix="I",
        example=tuple(getattr(mod, "INSPECTOR_EXAMPLE", ())),
        notes=notes,
        unique_fields=("user_id",),
        check_row=check_row,
    )


def get_kind(name: str) -> ImportKind:
    if name == "units":
        return UNITS
    if name == "inspectors":
        return _inspectors_kind()
    raise KeyError(name)


# --------------------------------------------------------------------------------------- reading files


def normalise_header(text: Any) -> str:
    """Header text for matching: full-width → half-width (NFKC), no spaces, no required-marker '*'."""
    s = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    s = "".join(s.split())
    return s.strip("*").lower()


def cell_text(value: Any) -> str | None:
    """A spreadsheet cell as the text a person sees (numbers without '.0', dates as YYYY-MM-DD)."""
    if value is None:
        return None
    if type(value) is str:  # most cells: skip the other type checks
        return value.replace("\u00a0", " ").strip() or None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:.0f}"
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    text = str(value).replace("\u00a0", " ").strip()
    return text or None


def _lossy(value: Any) -> bool:
    """A number Excel kept as a float with more digits than it can hold (a USCC or ID typed as a number)."""
    return isinstance(value, float) and abs(value) >= 1e15


def _extension(filename: str) -> str:
    return os.path.splitext(filename or "")[1].lower()


def check_extension(filename: str) -> None:
    ext = _extension(filename)
    if ext == ".xls":
        raise ImportFileError(_("不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再上传"))
    if ext not in ALLOWED_EXTENSIONS:
        raise ImportFileError(_("只支持 .xlsx 或 .csv 文件"))


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (what Chinese Excel writes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise ImportFileError(_("无法识别该CSV文件的文字编码，请另存为 UTF-8 或 .xlsx 后再上传")) from e


def _csv_rows(path: str) -> Iterator[list[Any]]:
    with open(path, "rb") as fh:
        text = _decode_csv(fh.read())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that does not look for its size when opened.

    openpyxl's read-only sheet parses the sheet XML up to ``<dimension>`` on opening; a file without that
    element (openpyxl's own write-only mode, many exporters) is parsed to its end just to learn that. The
    import reads every row to the end anyway (a wrong ``<dimension>`` must not hide rows), so skip it.
    """

    def _get_size(self) -> None:
        return None


class _XlsxReader(ExcelReader):
    """openpyxl's reader (read-only, values only) with sheets that open without a scan."""

    def __init__(self, path: str) -> None:
        super().__init__(path, read_only=True, data_only=True)

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            ws = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def _check_zip(path: str) -> None:
    if not zipfile.is_zipfile(path):
        raise ImportFileError(_("该文件不是有效的 .xlsx 文件（可能是改了扩展名的 .xls），请在 Excel 中另存为 .xlsx"))


def _open_xlsx(path: str):
    _check_zip(path)
    try:
        reader = _XlsxReader(path)
        reader.read()
        return reader.wb
    except Exception as e:  # openpyxl raises many types for damaged files
        raise ImportFileError(_("无法读取该 Excel 文件，文件可能已损坏")) from e


def _xlsx_rows(path: str) -> Iterator[tuple[Any, ...]]:
    wb = _open_xlsx(path)
    try:
        if not wb.worksheets:
            raise ImportFileError(_("无法读取该 Excel 文件，文件可能已损坏"))
        yield from wb.worksheets[0].iter_rows(values_only=True)
    finally:
        wb.close()


_DIMENSION = re.compile(rb"<(?:[\w-]+:)?dimension\b[^>]*?\bref=\"[A-Za-z]*\d+(?::[A-Za-z]*(\d+))?\"")
_SHEET_DATA = re.compile(rb"<(?:[\w-]+:)?sheetData\b")
_ROW = re.compile(rb"<(?:[\w-]+:)?row[\s>/]")


def _xlsx_row_count(path: str) -> int:
    """Rows of the first worksheet without parsing it: its ``<dimension>`` if given, else its ``<row>`` tags.

    Blank rows may be counted; that is fine for the upload check and the progress bar.
    """
    _check_zip(path)
    try:
        reader = ExcelReader(path, read_only=True, data_only=True)
        try:
            reader.read_manifest()
            reader.read_workbook()
            target = next(
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            )
            with reader.archive.open(target) as src:
                head = src.read(1 << 16)
                data_at = _SHEET_DATA.search(head)
                dim = _DIMENSION.search(head, 0, data_at.start() if data_at else len(head))
                if dim is not None:
                    return int(dim.group(1) or 1)
                rows, tail = 0, b""
                chunk = head
                while chunk:
                    buf = tail + chunk
                    # a tag cut at the chunk's end is counted in the next round (keep the last 16 bytes)
                    cut = max(len(buf) - 16, 0)
                    rows += sum(1 for m in _ROW.finditer(buf) if m.start() < cut)
                    tail = buf[cut:]
                    chunk = src.read(1 << 20)
                rows += len(_ROW.findall(tail))
                return rows
        finally:
            reader.archive.close()
    except ImportFileError:
        raise
    except Exception as e:  # openpyxl raises many types for damaged files
        raise ImportFileError(_("无法读取该 Excel 文件，文件可能已损坏")) from e


def read_table(path: str, filename: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """``(row number as the spreadsheet shows it, cell values)`` for every row, blank rows included."""
    check_extension(filename)
    rows = _xlsx_rows(path) if _extension(filename) == ".xlsx" else _csv_rows(path)
    for number, row in enumerate(rows, start=1):
        yield number, tuple(row)


def estimate_rows(path: str, filename: str) -> int:
    """Data rows in the file, cheaply (for the upload check and the progress bar); may over-count blanks."""
    if _extension(filename) == ".xlsx":
        return max(_xlsx_row_count(path) - 1, 0)
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return max(lines - 1, 0)


@dataclass
class HeaderMap:
    row: int  # row number of the header row
    fields: dict[int, str]  # cell index -> field
    headers: dict[str, str]  # field -> header text as written in the file
    ignored: list[str]
    missing: list[Column]


def match_header(columns: Iterable[Column], cells: tuple[Any, ...], row: int) -> HeaderMap:
    names: dict[str, Column] = {}
    for col in columns:
        for spelling in (col.header, *col.aliases):
            names.setdefault(normalise_header(spelling), col)
    result = HeaderMap(row=row, fields={}, headers={}, ignored=[], missing=[])
    for index, cell in enumerate(cells):
        text = cell_text(cell)
        if not text:
            continue
        col = names.get(normalise_header(text))
        if col is None or col.field in result.headers:
            result.ignored.append(text)
            continue
        result.fields[index] = col.field
        result.headers[col.field] = text
    result.missing = [c for c in columns if c.required and c.field not in result.headers]
    return result


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
        lossy: set[str] = set()
        for index, name in field_at:
            value = cells[index] if index < len(cells) else None
            raw[name] = cell_text(value)
            if _lossy(value):
                lossy.add(name)
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
            if name in lossy:
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
                org_names[rec["org_id"]] = db.session.get(Organisation, rec["org_id"]).name
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
        outcome.changes[r.match_id] = {f: [audit._plain(old[f]), audit._plain(v)] for f, v in changed.items()}
        for f in changed:
            outcome.field_counts[f] = outcome.field_counts.get(f, 0) + 1
        updates.append({"id": r.match_id, **changed, "updated_at": now})
    outcome.created_ids.extend(_insert_all(model, inserts))
    if updates:
        db.session.execute(update(model), updates)
    return outcome


def _insert_all(model: type, rows: list[dict]) -> list[int]:
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


def imports_dir() -> str:
    path = os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def job_path(job: ImportJob) -> str:
    return os.path.join(imports_dir(), job.public_id + _extension(job.filename))


def create_job(kind: str, org: Organisation, filename: str, stream: IO[bytes], actor: Any) -> ImportJob:
    """Save the upload under ``instance/imports/`` and create the pending job (committed).

    Raises ImportFileError (nothing kept) for a file of the wrong type or with too many rows.
    """
    filename = os.path.basename((filename or "").replace("\\", "/")).strip() or "upload"
    check_extension(filename)
    ext = _extension(filename)
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
    path = job_path(job)
    with open(path, "wb") as fh:
        while chunk := stream.read(1 << 20):
            fh.write(chunk)
    try:
        estimate = estimate_rows(path, filename)
        max_rows = current_app.config["IMPORT_MAX_ROWS"]
        if estimate > max_rows:
            raise ImportFileError(
                _("文件约有%(rows)d行，超过单次导入上限%(n)d行，请拆分后分批导入", rows=estimate, n=max_rows)
            )
    except ImportFileError:
        os.remove(path)
        raise
    job.total_rows = estimate
    db.session.add(job)
    db.session.commit()
    return job


def set_row(model: type, row_id: int, **values: Any) -> None:
    """Write columns of one row in a separate short transaction (visible at once to anyone polling).

    Shared by the background jobs (imports here, dashboard exports).
    """
    table = model.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _set_job(job_id: int, **values: Any) -> None:
    set_row(ImportJob, job_id, **values)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def run_job(job_id: int) -> ImportJob:
    """Run an import job to its end (done or failed) in the current app context."""
    job = db.session.get(ImportJob, job_id)
    kind = get_kind(job.kind)
    org = db.session.get(Organisation, job.org_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    path = job_path(job)
    db.session.commit()  # end the read transaction: progress is written from another connection
    _set_job(job_id, status="running")

    def progress(n: int) -> None:
        _set_job(job_id, processed_rows=n)

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
        job = db.session.get(ImportJob, job_id)
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
            from webapp.registry.units.services import forget_regions

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
    job = db.session.get(ImportJob, job_id)
    db.session.refresh(job)
    return job


def _import_crashed(job_id: int) -> None:
    _set_job(
        job_id,
        status="failed",
        finished_at=utcnow(),
        errors=json.dumps([{"row": None, "column": "", "message": _("导入出错，未导入任何数据")}]),
    )


def _run_in_thread(
    app: Flask, run: Callable[[int], Any], crashed: Callable[[int], None], job_id: int, locale: str
) -> None:
    with app.app_context(), force_locale(locale):
        try:
            run(job_id)
        except Exception:
            log.exception("background job %s (%s) crashed", job_id, getattr(run, "__module__", ""))
            crashed(job_id)


def start_in_background(
    run: Callable[[int], Any], crashed: Callable[[int], None], job_id: int, *, name: str, config_key: str
) -> threading.Thread | None:
    """Run ``run(job_id)`` in a daemon thread with its own app context and the request's locale, or right here
    when ``app.config[config_key]`` is false (tests). ``crashed(job_id)`` marks the job failed if it raises.
    """
    app = current_app._get_current_object()
    if not app.config.get(config_key, True):
        run(job_id)
        return None
    locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    thread = threading.Thread(target=_run_in_thread, args=(app, run, crashed, job_id, locale), name=name)
    thread.daemon = True
    thread.start()
    return thread


def start_job(job: ImportJob) -> threading.Thread | None:
    """Run the job in a background thread (``IMPORT_BACKGROUND``, default) or right here."""
    return start_in_background(
        run_job, _import_crashed, job.id, name=f"import-{job.public_id}", config_key="IMPORT_BACKGROUND"
    )


def import_file(kind: str, org: Organisation, path: str, actor: Any = None) -> ImportJob:
    """Import a file synchronously (the CLI): create the job from ``path`` and run it here."""
    with open(path, "rb") as fh:
        job = create_job(kind, org, os.path.basename(path), fh, actor)
    return run_job(job.id)


def get_job(user: Any, public_id: str) -> ImportJob | None:
    """The job if the user may see it (its organisation is theirs to manage), else None (→ 404)."""
    job = db.session.execute(select(ImportJob).where(ImportJob.public_id == public_id)).scalar_one_or_none()
    if job is None:
        return None
    ids = visible_org_ids(user)
    if ids is not None and job.org_id not in ids:
        return None
    expire_if_stuck(job)
    return job


def expire_if_stuck(job: ImportJob, now: dt.datetime | None = None) -> bool:
    """A job still pending/running 30 minutes after upload lost its worker: mark it failed."""
    if job.status not in RUNNING or (now or utcnow()) - job.created_at < STALE_AFTER:
        return False
    job.status = "failed"
    job.finished_at = utcnow()
    job.errors = json.dumps(
        [{"row": None, "column": "", "message": _("导入超过30分钟仍未完成，已中断，未导入任何数据，请重新上传")}],
        ensure_ascii=False,
    )
    db.session.commit()
    return True


def recent_jobs(user: Any, kind: str, limit: int = 10) -> list[ImportJob]:
    stmt = select(ImportJob).where(ImportJob.kind == kind).order_by(ImportJob.id.desc()).limit(limit)
    ids = visible_org_ids(user)
    if ids is not None:
        stmt = stmt.where(ImportJob.org_id.in_(sorted(ids)))
    return list(db.session.execute(stmt).scalars())


def job_org_name(job: ImportJob) -> str:
    org = db.session.get(Organisation, job.org_id)
    return org.name if org else ""


def job_entries(job: ImportJob) -> tuple[list[dict], list[dict]]:
    """``(errors, warnings)`` stored on the job."""
    entries = json.loads(job.errors) if job.errors else []
    errors = [e for e in entries if e.get("level") != "warning"]
    warnings = [e for e in entries if e.get("level") == "warning"]
    return errors, warnings


# ------------------------------------------------------------------------------------ workbooks out


def _cell_out(value: Any, labels: dict | None = None) -> Any:
    """A stored value as a cell the import accepts again (Chinese labels, 是/否, ISO dates)."""
    if value is None:
        return None
    if labels is not None and value in labels:
        label = labels[value]
        if isinstance(label, str):  # already resolved (_zh_labels)
            return label
        with force_locale("zh_Hans"):
            return str(label)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _spooled_workbook(fill: Callable[[openpyxl.Workbook], None]) -> IO[bytes]:
    """Build a write-only workbook (rows go to disk as written) and return it as an open file at 0."""
    wb = openpyxl.Workbook(write_only=True)
    fill(wb)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to send_file, which closes it
    wb.save(out)
    out.seek(0)
    return out


def template_xlsx(kind: ImportKind) -> IO[bytes]:
    """The import template: header row + one example row, and a sheet “填写说明” on each column."""

    def fill(wb: openpyxl.Workbook) -> None:
        ws = wb.create_sheet(str(kind.title)[:31])
        ws.append([c.header for c in kind.columns])
        if kind.example:
            ws.append(list(kind.example))
        help_ws = wb.create_sheet("填写说明")
        help_ws.append([_("列名"), _("必填"), _("也可写作"), _("填写要求")])
        for c in kind.columns:
            help_ws.append(
                [
                    c.header,
                    _("是") if c.required else _("否"),
                    "、".join(c.aliases),
                    str(kind.notes.get(c.field, "")),
                ]
            )
        help_ws.append([])
        for line in rules_text(kind):
            help_ws.append([line])

    return _spooled_workbook(fill)


def template_csv(kind: ImportKind) -> bytes:
    """The same template as CSV, UTF-8 with BOM so Excel shows the Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.header for c in kind.columns])
    if kind.example:
        writer.writerow(kind.example)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def rules_text(kind: ImportKind) -> list[str]:
    key = kind.column(kind.key_field).header
    lines = [
        _("第1行为列名（表头），列的顺序不限；无法识别的列会被忽略。"),
        _("导入前会先校验全部行：只要有一处错误，就不导入任何数据，并列出每个错误所在的行号。"),
        _("已登记的记录按“%(key)s”匹配：相同则更新（只改有变化的项），不会重复新增。", key=key),
        _("空白单元格不会清除已登记的内容。"),
        _("模板中的示例行请删除后再导入。"),
    ]
    if kind.fallback_fields:
        lines.insert(3, _("没有%(key)s的行，按“单位名称+地址”匹配本机构已有单位。", key=key))
    return lines


def errors_xlsx(job: ImportJob) -> IO[bytes] | None:
    """The bad rows of a failed job, as uploaded, with the errors in an extra column (fix and re-upload)."""
    errors, _warnings = job_entries(job)
    by_row: dict[int, list[str]] = {}
    for e in errors:
        if e.get("row"):
            by_row.setdefault(e["row"], []).append(f"{e['column']}：{e['message']}" if e["column"] else e["message"])
    path = job_path(job)
    if not by_row or not os.path.exists(path):
        return None
    kind = get_kind(job.kind)
    header_row = min(by_row)

    def fill(wb: openpyxl.Workbook) -> None:
        ws = wb.create_sheet(_("错误行"))
        header_written = False
        for number, cells in read_table(path, job.filename):
            is_header = not header_written and not match_header(kind.columns, cells, number).missing
            if is_header or (not header_written and number >= header_row):
                ws.append([ERROR_COLUMN, ROW_COLUMN, *(cell_text(c) for c in cells)])
                header_written = True
                if is_header:
                    continue
            if number in by_row:
                ws.append(["；".join(by_row[number]), number, *(cell_text(c) for c in cells)])

    return _spooled_workbook(fill)


def export_units(actor: Any, args: Any) -> tuple[IO[bytes], int]:
    """The units the list page shows for these query arguments (``q``, ``status`` … ) as .xlsx.

    Streams from the database (yield_per) into a write-only workbook, so 100 000 units stay small in
    memory. The header row is UNIT_COLUMNS' headers: an export imports again unchanged. Audited.
    """
    from webapp.registry.units import services as unit_services

    filters = unit_services.UnitFilters.from_args(args)
    stmt = unit_services._filtered(actor, filters)
    kind = UNITS
    cols = [getattr(Unit, f) for f in kind.fields]
    query = stmt.with_only_columns(*cols).order_by(None).order_by(Unit.id).execution_options(yield_per=2000)
    count = 0

    def fill(wb: openpyxl.Workbook) -> None:
        nonlocal count
        ws = wb.create_sheet(str(kind.title)[:31])
        ws.append([c.header for c in kind.columns])
        labels = _zh_labels(_unit_labels())
        col_labels = [labels.get(f) for f in kind.fields]  # same cells as kind.to_text, labels resolved once
        for row in db.session.execute(query):
            ws.append([_cell_out(v, lab) for v, lab in zip(row, col_labels, strict=True)])
            count += 1

    out = _spooled_workbook(fill)
    audit.record(
        actor,
        "export.units",
        ("organisation", actor.org_id),
        {"rows": count, "filters": filters.to_args()},
        org_id=actor.org_id,
    )
    db.session.commit()
    return out, count
