"""两库 at a desk: sortable tables (server-side sort, paging kept), cards for phones in the same page, and the
inspector page's workload and recent tasks."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.factories import make_inspection, make_inspector, make_item, make_org, make_task, make_unit, make_user
from webapp import calendar
from webapp.auth.models import OrgKind
from webapp.inspections.models import CheckResult, PublishedCategory
from webapp.registry.models import RiskLevel, UnitClass
from webapp.tasks.models import TaskStatus

UTC = dt.UTC


@pytest.fixture
def world(db):
    city = make_org(code="zd", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    ys = make_org(code="ys", name="偃师区消防救援大队", parent=city)
    mj = make_org(code="mj", name="孟津区消防救援大队", parent=city)
    w = {"city": city, "ys": ys, "mj": mj, "sup": make_user(city, username="sup_city")}
    w["units"] = [
        make_unit(ys, name="丙单位", risk_level=RiskLevel.GREEN, region="城关镇"),
        make_unit(mj, name="甲单位", risk_level=RiskLevel.RED, region=None, unit_class=UnitClass.KEY, crowded=True),
        make_unit(ys, name="乙单位", risk_level=RiskLevel.YELLOW, region="首阳山街道"),
        make_unit(mj, name="丁单位", risk_level=RiskLevel.BLUE, region="城关镇", unit_class=None),
    ]
    today = calendar.today()
    w["people"] = [
        make_inspector(ys, name="王五", cert_valid_until=today + dt.timedelta(days=200)),
        make_inspector(mj, name="李四", cert_valid_until=today + dt.timedelta(days=20)),
        make_inspector(ys, name="赵六", cert_valid_until=None, cert_no=None),
    ]
    db.session.commit()
    return w


def names_in_table(html: str, endpoint_path: str) -> list[str]:
    """The names of the table rows (the desk view), in order."""
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(rf'<a href="{endpoint_path}/[^"]+">([^<]+)</a>', table)


def test_units_sort_by_name_both_ways_and_an_unknown_column_is_ignored(world, client, login_as):
    login_as(world["sup"])
    asc = client.get("/registry/units?sort=name&dir=asc").get_data(as_text=True)
    names = names_in_table(asc, "/registry/units")
    assert names == sorted(names) and len(names) == 4
    desc = client.get("/registry/units?sort=name&dir=desc").get_data(as_text=True)
    assert names_in_table(desc, "/registry/units") == list(reversed(names))
    # an unknown column (or a column name that is SQL) is the default order: newest first
    default = names_in_table(client.get("/registry/units").get_data(as_text=True), "/registry/units")
    assert default == ["丁单位", "乙单位", "甲单位", "丙单位"]
    for bad in ("sort=password", "sort=name;drop table unit", "sort=__class__"):
        html = client.get(f"/registry/units?{bad}").get_data(as_text=True)
        assert names_in_table(html, "/registry/units") == default
    # an unknown direction is ascending
    odd = client.get("/registry/units?sort=name&dir=sideways").get_data(as_text=True)
    assert names_in_table(odd, "/registry/units") == names


def test_units_sort_by_risk_class_and_region_puts_missing_values_first_or_last(world, client, login_as):
    login_as(world["sup"])
    risk = client.get("/registry/units?sort=risk&dir=asc").get_data(as_text=True)
    assert names_in_table(risk, "/registry/units") == ["甲单位", "乙单位", "丁单位", "丙单位"]  # 红 黄 蓝 绿
    cls = client.get("/registry/units?sort=unit_class&dir=asc").get_data(as_text=True)
    ordered = names_in_table(cls, "/registry/units")
    assert ordered[0] == "甲单位" and ordered[-1] == "丁单位"  # key crowded first, class missing last
    region = client.get("/registry/units?sort=region&dir=desc").get_data(as_text=True)
    assert names_in_table(region, "/registry/units")[-1] == "甲单位"  # no region: last when descending


def test_sorted_units_page_on_with_the_order_kept(world, client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    login_as(world["sup"])
    first = client.get("/registry/units?sort=name&dir=desc").get_data(as_text=True)
    page1 = names_in_table(first, "/registry/units")
    assert len(page1) == 3
    nxt = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    args = parse_qs(urlparse(nxt).query)
    assert args["sort"] == ["name"] and args["dir"] == ["desc"] and "after" in args
    page2 = names_in_table(client.get(nxt).get_data(as_text=True), "/registry/units")
    every = sorted((u.name for u in world["units"]), reverse=True)
    assert page1 + page2 == every


def test_desk_table_and_phone_cards_are_both_in_the_page(world, client, login_as):
    """The server renders both; desk.css shows the table from 1024 px and the cards below."""
    login_as(world["sup"])
    html = client.get("/registry/units?sort=name&dir=asc").get_data(as_text=True)
    assert "css/desk.css" in html
    assert 'class="desk-table' in html and 'class="list units desk-cards"' in html
    # the sorted column says so; its header link reverses; the others sort ascending and keep the filters
    assert re.search(r'aria-sort="ascending"><a class="sort" href="[^"]*sort=name[^"]*dir=desc', html)
    assert re.search(r'aria-sort="none"><a class="sort" href="[^"]*sort=risk[^"]*dir=asc', html)
    # the filter form keeps the order
    assert '<input type="hidden" name="sort" value="name">' in html
    filtered = client.get("/registry/units?sort=name&dir=asc&risk=red").get_data(as_text=True)
    assert re.search(r'href="[^"]*risk=red[^"]*sort=unit_class', filtered)
    # the htmx fragment (search as you type) carries both too
    frag = client.get("/registry/units?q=单位", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "desk-table" in frag and "desk-cards" in frag and "<html" not in frag
    resp = client.get("/static/css/desk.css")
    css = resp.get_data(as_text=True)
    resp.close()
    assert "@media (min-width: 1024px)" in css and ".desk-cards { display: none; }" in css


def test_inspectors_sort_by_certificate_and_name(world, client, login_as):
    login_as(world["sup"])
    html = client.get("/registry/inspectors?sort=cert&dir=asc").get_data(as_text=True)
    assert names_in_table(html, "/registry/inspectors") == ["赵六", "李四", "王五"]  # no certificate first
    html = client.get("/registry/inspectors?sort=cert&dir=desc").get_data(as_text=True)
    assert names_in_table(html, "/registry/inspectors") == ["王五", "李四", "赵六"]
    html = client.get("/registry/inspectors?sort=org&dir=asc").get_data(as_text=True)
    # by the organisation's name (偃师… < 孟津… in code point order), ties by id
    assert names_in_table(html, "/registry/inspectors") == ["王五", "赵六", "李四"]
    html = client.get("/registry/inspectors?sort=nonsense&dir=desc").get_data(as_text=True)
    assert names_in_table(html, "/registry/inspectors") == ["赵六", "李四", "王五"]  # newest first
    assert 'class="list inspectors desk-cards"' in html and "css/desk.css" in html


def test_inspector_page_shows_workload_and_recent_tasks(world, client, login_as, db):
    today = calendar.today()
    ys = world["ys"]
    wang, li = world["people"][0], world["people"][1]
    item = make_item(world["city"])
    unit = world["units"][0]
    first_of_month = today.replace(day=1)
    done = make_task(ys, unit, item.current.id, first_of_month, TaskStatus.SUBMITTED, [wang, li])
    make_inspection(
        done,
        dt.datetime.combine(first_of_month, dt.time(3), UTC),
        PublishedCategory.ORDERED_RECTIFY,
        result=CheckResult.DEADLINE,
    )
    make_task(ys, world["units"][2], item.current.id, first_of_month, TaskStatus.PLANNED, [li, wang])
    make_task(ys, world["units"][2], item.current.id, today + dt.timedelta(days=40), TaskStatus.PLANNED, [wang, li])
    make_task(ys, world["units"][3], item.current.id, first_of_month, TaskStatus.CANCELLED, [wang, li])  # 作废
    db.session.commit()
    login_as(world["sup"])
    html = client.get(f"/registry/inspectors/{wang.public_id}").get_data(as_text=True)
    assert 'id="workload"' in html and "工作量" in html
    section = html.split('id="workload"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    cells = [re.findall(r'<td class="num[^"]*">(\d+)</td>', r) for r in rows]
    lead_month, assist_month = cells[1], cells[2]
    overdue_now = 1 if first_of_month < today else 0
    assert lead_month == ["1", "0", "0", "1"]  # the task in 40 days is not this month's; 作废 is not work
    assert assist_month == ["0", str(1 - overdue_now), str(overdue_now), "1"]
    recent = html.split('id="recent-tasks"', 1)[1].split("</section>", 1)[0]
    assert "责令限期改正" in recent and "发现问题已责令改正" in recent
    assert recent.count("<tr") == 1 + 4  # header + four tasks, the cancelled one shown as such
    assert "已作废" in recent
