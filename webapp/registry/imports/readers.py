"""Reading an uploaded file as rows of cells: ``.xlsx`` (via :mod:`webapp.xlsx`) and ``.csv`` (UTF-8 with or without
BOM, UTF-16 with BOM, or GB18030 as Chinese Excel saves it); cells as the text a person sees; the header row
matched against a library's columns (full-width, spaces and the required-marker ``*`` ignored)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from webapp import xlsx
from webapp.registry.validation import Column
from webapp.web import ServiceError

ALLOWED_EXTENSIONS = (".xlsx", ".csv")


class ImportFileError(ServiceError):
    """The file cannot be read as a table (wrong type, damaged, too many rows …). ``message`` is Chinese."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message, field)


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


def lossy(value: Any) -> bool:
    """A number Excel kept as a float with more digits than it can hold (a USCC or ID typed as a number)."""
    return isinstance(value, float) and abs(value) >= 1e15


def extension(filename: str) -> str:
    """The file's extension, lower case, with its dot (``.xlsx``)."""
    return os.path.splitext(filename or "")[1].lower()


def check_extension(filename: str) -> None:
    ext = extension(filename)
    if ext == ".xls":
        raise ImportFileError(_("不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再上传"))
    if ext not in ALLOWED_EXTENSIONS:
        raise ImportFileError(_("只支持 .xlsx 或 .csv 文件"))


def decode_csv(data: bytes) -> str:
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
        text = decode_csv(fh.read())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: str) -> Iterator[tuple[Any, ...]]:
    try:
        yield from xlsx.first_sheet_rows(path)
    except xlsx.WorkbookError as e:
        raise ImportFileError(e.message) from e


def read_table(path: str, filename: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """``(row number as the spreadsheet shows it, cell values)`` for every row, blank rows included."""
    check_extension(filename)
    rows = _xlsx_rows(path) if extension(filename) == ".xlsx" else _csv_rows(path)
    for number, row in enumerate(rows, start=1):
        yield number, tuple(row)


def estimate_rows(path: str, filename: str) -> int:
    """Data rows in the file, cheaply (for the upload check and the progress bar); may over-count blanks."""
    if extension(filename) == ".xlsx":
        try:
            return max(xlsx.first_sheet_row_count(path) - 1, 0)
        except xlsx.WorkbookError as e:
            raise ImportFileError(e.message) from e
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
        match = names.get(normalise_header(text))
        if match is None or match.field in result.headers:
            result.ignored.append(text)
            continue
        result.fields[index] = match.field
        result.headers[match.field] = text
    result.missing = [c for c in columns if c.required and c.field not in result.headers]
    return result
