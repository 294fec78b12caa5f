"""Workbook helpers: reading an uploaded .xlsx row by row, writing large workbooks with little memory.

Reading (openpyxl, read-only, values only): :func:`first_sheet_rows` streams the first worksheet's rows;
:func:`first_sheet_row_count` counts them without parsing the sheet. Unreadable files raise
:class:`WorkbookError` with a Chinese message.

Writing: :func:`spooled_workbook` builds a write-only workbook (rows go to disk as written) and returns it as
an open temporary file, ready for :func:`webapp.web.xlsx_response`; :func:`workbook` does the same for
``(sheet title, rows)`` pairs. Every sheet is made with :func:`sheet`, whose rows are **typed, formula-safe
cells** (:func:`safe_cell`): numbers as numbers, dates as dates, and text as text even when it starts like a
formula (``=``, ``+``, ``-``, ``@``, tab, CR …): a unit named ``=HYPERLINK(…)`` is stored as a string with
Excel's quote prefix (what Excel itself does for ``'=…``), so neither opening nor editing the cell runs it,
and the text imports again unchanged. :func:`cell_out` turns a stored value into the cell an import accepts
again; :func:`csv_bytes` writes a CSV that Excel opens with its Chinese intact (formula-safe too).

Tables people sort and filter (:meth:`SafeSheet.table_header` … :meth:`SafeSheet.close_table`): a bold header
row, frozen below it, column widths, and an autofilter over the rows written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

import openpyxl
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from webapp.calendar import SHANGHAI
from webapp.web import ServiceError

SHEET_TITLE_MAX = 31  # Excel's limit


class WorkbookError(ServiceError):
    """The file cannot be read as a workbook (not a zip, damaged …); the message is Chinese."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message, field)


# ------------------------------------------------------------------------------------------------ reading


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that does not look for its size when opened.

    openpyxl's read-only sheet parses the sheet XML up to ``<dimension>`` on opening; a file without that
    element (openpyxl's own write-only mode, many exporters) is parsed to its end just to learn that. Readers
    here read every row to the end anyway (a wrong ``<dimension>`` must not hide rows), so skip it.
    """

    def _get_size(self) -> None:
        return None


class _Reader(ExcelReader):
    """openpyxl's reader (read-only, values only) with sheets that open without a scan."""

    def __init__(self, path: str) -> None:
        super().__init__(path, read_only=True, data_only=True)

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            ws = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state  # type: ignore[assignment]  # as openpyxl's own reader does (stub: Optional)
            self.wb._sheets.append(ws)  # type: ignore[attr-defined]  # openpyxl's reader fills the private list too


def check_zip(path: str) -> None:
    """An .xlsx is a zip file; anything else (often an .xls renamed) is refused with a hint."""
    if not zipfile.is_zipfile(path):
        raise WorkbookError(_("该文件不是有效的 .xlsx 文件（可能是改了扩展名的 .xls），请在 Excel 中另存为 .xlsx"))


def _damaged() -> WorkbookError:
    return WorkbookError(_("无法读取该 Excel 文件，文件可能已损坏"))


def open_read_only(path: str) -> openpyxl.Workbook:
    """The workbook, read-only and values only; the caller closes it."""
    check_zip(path)
    try:
        reader = _Reader(path)
        reader.read()
        return reader.wb
    except Exception as e:  # openpyxl raises many types for damaged files
        raise _damaged() from e


def first_sheet_rows(path: str) -> Iterator[tuple[Any, ...]]:
    """The cell values of every row of the first worksheet, blank rows included."""
    wb = open_read_only(path)
    try:
        if not wb.worksheets:
            raise _damaged()
        yield from wb.worksheets[0].iter_rows(values_only=True)
    finally:
        wb.close()


_DIMENSION = re.compile(rb"<(?:[\w-]+:)?dimension\b[^>]*?\bref=\"[A-Za-z]*\d+(?::[A-Za-z]*(\d+))?\"")
_SHEET_DATA = re.compile(rb"<(?:[\w-]+:)?sheetData\b")
_ROW = re.compile(rb"<(?:[\w-]+:)?row[\s>/]")


def first_sheet_row_count(path: str) -> int:
    """Rows of the first worksheet without parsing it: its ``<dimension>`` if given, else its ``<row>`` tags.

    Blank rows may be counted; that is fine for an upload check and a progress bar.
    """
    check_zip(path)
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
    except WorkbookError:
        raise
    except Exception as e:  # openpyxl raises many types for damaged files
        raise _damaged() from e


# ------------------------------------------------------------------------------------------------ writing


# Text starting with one of these is a formula (or DDE call) to Excel, LibreOffice or Numbers once typed or
# re-saved as CSV; the full-width forms are what a Chinese input method types.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """``value`` as a typed, formula-safe cell of the write-only sheet ``ws``.

    Numbers stay numbers and dates dates (a datetime in local time: Excel has no time zones); text that starts
    like a formula becomes a string cell with Excel's quote prefix (never a formula); characters a workbook
    cannot hold (control characters) are dropped instead of failing the export. Anything else is its text.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, dt.date | dt.time):
        return value
    text = value if isinstance(value, str) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not text.startswith(FORMULA_START):
        return text
    cell = WriteOnlyCell(ws, value=text)  # openpyxl takes text starting with "=" for a formula …
    cell.data_type = "s"  # … keep it a string
    cell.quotePrefix = True  # and tell Excel it is text, also when someone edits the cell
    return cell


HEADER_FONT = Font(bold=True)
DEFAULT_WIDTH = 14  # characters; a column without a width of its own


class SafeSheet:
    """A write-only worksheet whose rows are written as :func:`safe_cell` cells (use :func:`sheet`)."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.worksheet = ws
        self.rows = 0
        self.columns = 0

    def append(self, row: Iterable[Any]) -> None:
        ws = self.worksheet
        cells = [safe_cell(ws, v) for v in row]
        ws.append(cells)
        self.rows += 1
        self.columns = max(self.columns, len(cells))

    def table_header(self, headers: Sequence[Any], widths: Sequence[float | None] | None = None) -> None:
        """The first row as a table's header: bold, frozen (it stays on screen while scrolling), with column
        widths in characters. Call before any other row (a write-only sheet writes its layout first); finish
        with :meth:`close_table` for the autofilter."""
        ws = self.worksheet
        if self.rows:
            raise ValueError("table_header must be the first row")
        for i, _header in enumerate(headers, start=1):
            width = widths[i - 1] if widths is not None and i <= len(widths) else None
            ws.column_dimensions[get_column_letter(i)].width = width or DEFAULT_WIDTH  # type: ignore[attr-defined]
        ws.freeze_panes = "A2"
        cells = []
        for header in headers:
            cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", str(header)))
            cell.data_type = "s"
            cell.font = HEADER_FONT
            cells.append(cell)
        ws.append(cells)
        self.rows += 1
        self.columns = max(self.columns, len(cells))

    def close_table(self) -> None:
        """An autofilter over the header and every row written (Excel's sort and filter buttons)."""
        if self.columns:
            self.worksheet.auto_filter.ref = f"A1:{get_column_letter(self.columns)}{max(self.rows, 1)}"  # type: ignore[attr-defined]


def sheet(wb: openpyxl.Workbook, title: Any) -> SafeSheet:
    """A new sheet of a write-only workbook (the title cut to Excel's limit) that writes typed, formula-safe rows.

    Every workbook the app writes makes its sheets here (tests/test_xlsx.py checks that no other module
    writes cells itself)."""
    return SafeSheet(wb.create_sheet(str(title)[:SHEET_TITLE_MAX]))


def cell_out(value: Any, labels: Mapping[Any, Any] | None = None) -> Any:
    """A stored value as a cell an import accepts again (Chinese labels, 是/否; dates stay dates)."""
    if value is None:
        return None
    if labels is not None and value in labels:
        label = labels[value]
        if isinstance(label, str):  # already resolved (chinese_labels)
            return label
        with force_locale("zh_Hans"):
            return str(label)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value  # a date cell; the import reads it as YYYY-MM-DD
    if hasattr(value, "value"):
        return value.value
    return value


def chinese_labels(labels_by_field: Mapping[str, Mapping[Any, Any]]) -> dict[str, dict[Any, str]]:
    """Lazy labels as Chinese text, resolved once (an export must not switch locale for every cell)."""
    with force_locale("zh_Hans"):
        return {f: {k: str(v) for k, v in labels.items()} for f, labels in labels_by_field.items()}


def spooled_workbook(fill: Callable[[openpyxl.Workbook], None]) -> IO[bytes]:
    """Build a write-only workbook (rows go to disk as written) and return it as an open file at 0."""
    wb = openpyxl.Workbook(write_only=True)
    fill(wb)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to xlsx_response, which closes it
    wb.save(out)
    out.seek(0)
    return out


def workbook(sheets: Iterable[tuple[str, Iterable[Sequence[Any]]]]) -> IO[bytes]:
    """A spooled workbook of ``(sheet title, rows)``; rows may be a generator (written as produced)."""

    def fill(wb: openpyxl.Workbook) -> None:
        for title, rows in sheets:
            ws = sheet(wb, title)
            for row in rows:
                ws.append(row)

    return spooled_workbook(fill)


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV field: dates ISO (``2027-01-05``; datetimes in local time to the minute), numbers as
    they are, text that starts like a formula prefixed with ``'`` (a CSV has no cell types: opened in Excel,
    ``=HYPERLINK(…)`` would run)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        local = value.astimezone(SHANGHAI) if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = ILLEGAL_CHARACTERS_RE.sub("", value if isinstance(value, str) else str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV, UTF-8 with BOM and CRLF, so Excel shows the Chinese correctly; cells as :func:`csv_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
