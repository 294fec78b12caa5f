"""Exports people can use: a supervisor opens the tasks and results exports in a spreadsheet that sorts and
filters them (typed cells, bold frozen header, widths, autofilter), joins results back to tasks and draws by
their ids, sees 主办 and 协办 apart and an abandoned draw's tasks marked; the same rows as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from tests.factories import build_public_world, make_inspection, make_inspector, make_task, make_unit, run_draw
from webapp import calendar
from webapp.admin import services as admin_services
from webapp.audit import AuditEvent
from webapp.draw import services as draw_services
from webapp.extensions import db as _db
from webapp.inspections.models import CheckResult, PublishedCategory
from webapp.tasks.models import TaskKind, TaskStatus

UTC = dt.UTC
EVIL = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def w(db):
    for year in (calendar.today().year, calendar.today().year + 1):  # the draw's year is known, as an admin confirms
        if not calendar.year_known(year):
            admin_services.confirm_year(None, year, "测试：暂无放假安排")
    w = build_public_world()
    w.draw = run_draw(w, publish=False)
    draw_services.abandon(w.supervisor, w.draw, "见证人未到场，重新组织抽取")
    _db.session.commit()
    w.lead = make_inspector(w.org, name="王主办")
    w.assist = make_inspector(w.org, name="李协办")
    w.unit = make_unit(w.org, name=EVIL)
    w.task = make_task(
        w.org,
        w.unit,
        w.item.current.id,
        dt.date(2026, 11, 5),
        TaskStatus.SUBMITTED,
        [w.lead, w.assist],
        kind=TaskKind.COMPLAINT,
        origin_note="12345 热线",
    )
    w.ins = make_inspection(
        w.task,
        dt.datetime(2026, 11, 6, 2, tzinfo=UTC),
        PublishedCategory.ORDERED_RECTIFY,
        result=CheckResult.DEADLINE,
        checkin_at=dt.datetime(2026, 11, 5, 17, 30, tzinfo=UTC),  # 6 Nov 01:30 in Shanghai
        published_at=dt.datetime(2026, 11, 9, 1, tzinfo=UTC),
        findings=["灭火器过期", "疏散通道堵塞"],
    )
    w.ins.publish_due_on = dt.date(2026, 12, 4)
    _db.session.commit()
    return w


def open_export(client, url: str):
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, list(r), strict=True)) for r in ws.iter_rows(min_row=2)]
    return ws, header, rows


def assert_table(ws, header: list[str], n_rows: int) -> None:
    """Bold frozen header, an autofilter over every row, a width on every column."""
    assert ws.freeze_panes == "A2"
    last = openpyxl.utils.get_column_letter(len(header))
    assert ws.auto_filter.ref == f"A1:{last}{n_rows + 1}"
    assert all(c.font.b for c in ws[1])
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i in range(1, len(header) + 1)]
    assert all(wd and wd >= 10 for wd in widths), widths


def test_tasks_export_is_a_table_with_ids_kinds_lead_and_assist_and_the_abandoned_draw_marked(w, client, login_as):
    login_as(w.supervisor)
    ws, header, rows = open_export(client, "/dashboard/export/tasks.xlsx")
    assert header == [
        "任务编号",
        "检查对象名称",
        "统一社会信用代码",
        "抽查事项",
        "计划检查日期",
        "主办人员",
        "协办人员",
        "任务状态",
        "检查机关",
        "检查类型",
        "抽取编号",
        "抽取状态",
    ]
    assert_table(ws, header, len(rows))
    drawn = [r for r in rows if r["抽取编号"].value == w.draw.public_id]
    assert drawn and len(drawn) == len(w.draw.tasks)
    for r in drawn:
        assert r["抽取状态"].value == "已放弃（任务作废）"
        assert r["任务状态"].value == "已作废"
        assert r["检查类型"].value == "日常监督抽查"
        assert r["主办人员"].value and "、" not in r["主办人员"].value  # one lead; assists apart
        assert r["协办人员"].value
    mine = next(r for r in rows if r["任务编号"].value == w.task.public_id)
    assert mine["检查对象名称"].value == EVIL and mine["检查对象名称"].data_type == "s"
    assert mine["检查对象名称"].quotePrefix  # text, never a formula
    assert mine["主办人员"].value == "王主办" and mine["协办人员"].value == "李协办"
    assert mine["检查类型"].value == "举报投诉" and mine["抽取状态"].value == "非抽取任务"
    assert mine["抽取编号"].value is None
    planned = mine["计划检查日期"]
    assert planned.is_date and planned.value == dt.datetime(2026, 11, 5) and planned.number_format == "yyyy-mm-dd"


def test_results_export_joins_back_and_carries_problems_and_publication(w, client, login_as):
    login_as(w.supervisor)
    ws, header, rows = open_export(client, "/dashboard/export/results.xlsx")
    assert header[:6] == [
        "检查对象名称",
        "统一社会信用代码",
        "抽查事项",
        "检查日期",
        "检查结果（公示类别）",
        "检查机关",
    ]
    assert header[6:] == [
        "任务编号",
        "抽取编号",
        "检查类型",
        "主办人员",
        "协办人员",
        "检查表结果",
        "发现的问题",
        "公示期限",
        "公示日期",
    ]
    assert_table(ws, header, len(rows))
    assert len(rows) == 1
    r = rows[0]
    assert r["任务编号"].value == w.task.public_id and r["抽取编号"].value is None
    assert r["检查类型"].value == "举报投诉"
    assert r["主办人员"].value == "王主办" and r["协办人员"].value == "李协办"
    assert r["检查表结果"].value == "责令限期改正"
    assert r["检查结果（公示类别）"].value == "发现问题已责令改正"
    assert r["发现的问题"].value == "1. 灭火器过期\n2. 疏散通道堵塞"
    # dates are date cells: the check-in day in Shanghai, the deadline, the day it was published
    assert r["检查日期"].is_date and r["检查日期"].value == dt.datetime(2026, 11, 6)
    assert r["公示期限"].is_date and r["公示期限"].value == dt.datetime(2026, 12, 4)
    assert r["公示日期"].is_date and r["公示日期"].value == dt.datetime(2026, 11, 9)


def test_csv_export_has_the_same_columns_iso_dates_and_no_formulas(w, client, login_as):
    login_as(w.supervisor)
    _ws, header, _rows = open_export(client, "/dashboard/export/results.xlsx")
    resp = client.get("/dashboard/export/results.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert ".csv" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == header
    row = dict(zip(table[0], table[1], strict=True))
    assert row["检查对象名称"] == "'" + EVIL  # a CSV has no types: the formula is defused
    assert row["检查日期"] == "2026-11-06" and row["公示日期"] == "2026-11-09"
    assert row["发现的问题"] == "1. 灭火器过期\n2. 疏散通道堵塞"
    tasks = list(csv.reader(io.StringIO(client.get("/dashboard/export/tasks.csv").get_data().decode("utf-8-sig"))))
    assert tasks[0][-3:] == ["检查类型", "抽取编号", "抽取状态"]
    assert sum(1 for t in tasks[1:] if t[-1] == "已放弃（任务作废）") == len(w.draw.tasks)
    events = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.results")).all()
    assert any(json.loads(e.data).get("format") == "csv" for e in events)


def test_csv_exports_are_for_supervisors_only(w, client, login_as):
    from tests.factories import make_user
    from webapp.auth.models import Role

    inspector = make_user(w.org, Role.INSPECTOR)
    _db.session.commit()
    login_as(inspector)
    for kind in ("tasks", "results", "rectifications"):
        assert client.get(f"/dashboard/export/{kind}.csv").status_code == 403
