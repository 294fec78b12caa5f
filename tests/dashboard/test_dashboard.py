"""监管看板: month progress with the 10th/20th checkpoints, yearly coverage, results, open rectifications."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import make_inspection, make_inspector, make_item, make_org, make_task, make_unit, make_user
from webapp import calendar
from webapp.auth.models import OrgKind, Role
from webapp.dashboard import queries
from webapp.dashboard.charts import Bar, hbars
from webapp.draw.models import Plan
from webapp.extensions import db as _db
from webapp.inspections.models import PublishedCategory
from webapp.rectification.models import OrderKind, OrderStatus, RectificationOrder
from webapp.registry.models import RiskLevel, UnitClass, UnitStatus
from webapp.tasks.models import TaskStatus

TODAY = dt.date(2026, 11, 23)
UTC = dt.UTC


class World:
    pass


@pytest.fixture
def w(db):
    w = World()
    w.city = make_org(code="city", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    w.a = make_org(code="a", name="偃师区消防救援大队", parent=w.city)
    w.a.short_name = "偃师大队"
    w.b = make_org(code="b", name="孟津区消防救援大队", parent=w.city)
    w.other = make_org(code="x", name="外市大队")
    w.version = make_item(w.city).current.id
    w.sup_city = make_user(w.city, Role.SUPERVISOR)
    w.sup_a = make_user(w.a, Role.SUPERVISOR)
    w.x = make_inspector(w.a, name="王小锋")
    w.y = make_inspector(w.a, name="李四")
    w.z = make_inspector(w.a, name="赵五")
    return w


def month_world(w):
    u = make_unit(w.a)
    xy = [(w.x, True), (w.y, True)]
    t1 = make_task(w.a, u, w.version, dt.date(2026, 11, 5), TaskStatus.SUBMITTED, xy)
    make_inspection(t1, dt.datetime(2026, 11, 8, 2, tzinfo=UTC))
    # submitted 11 Nov 01:00 in Shanghai: after the 10th checkpoint although still 10 Nov in UTC
    t2 = make_task(w.a, u, w.version, dt.date(2026, 11, 8), TaskStatus.SUBMITTED, [(w.x, True), (w.z, False)])
    make_inspection(t2, dt.datetime(2026, 11, 10, 17, tzinfo=UTC))
    make_task(w.a, u, w.version, dt.date(2026, 11, 12), TaskStatus.IN_PROGRESS, [(w.x, True)])
    make_task(w.a, u, w.version, dt.date(2026, 11, 25), TaskStatus.PLANNED, [(w.x, True)])
    make_task(w.a, u, w.version, dt.date(2026, 11, 3), TaskStatus.CANCELLED, [(w.x, True)])
    make_task(w.a, u, w.version, dt.date(2026, 10, 30), TaskStatus.PLANNED, [(w.x, True)])
    make_task(w.b, make_unit(w.b), w.version, dt.date(2026, 11, 2), TaskStatus.PLANNED)
    make_task(w.other, make_unit(w.other), w.version, dt.date(2026, 11, 2), TaskStatus.PLANNED)
    _db.session.commit()


def test_month_per_org_with_checkpoints_and_scope(w):
    month_world(w)
    rows = {r.name: r for r in queries.month_by_org(w.sup_city, TODAY)}
    assert set(rows) == {"偃师大队", "孟津区消防救援大队"}  # own subtree only
    a = rows["偃师大队"]
    assert (a.planned, a.in_progress, a.done, a.overdue) == (4, 1, 2, 1)
    assert (a.due10, a.done10, a.due20, a.done20) == (2, 1, 3, 2)
    b = rows["孟津区消防救援大队"]
    assert (b.planned, b.overdue) == (1, 1)
    assert [r.name for r in queries.month_by_org(w.sup_a, TODAY)] == ["偃师大队"]


def test_month_per_inspector_counts_active_assignments_only(w):
    month_world(w)
    rows = {r.name: r for r in queries.month_by_inspector(w.sup_a, TODAY)}
    assert set(rows) == {"王小锋", "李四"}  # 赵五 was replaced
    assert (rows["王小锋"].planned, rows["王小锋"].done, rows["王小锋"].overdue) == (4, 2, 1)
    assert (rows["李四"].planned, rows["李四"].done10) == (1, 1)


def test_coverage_counts_distinct_units_inspected_this_year(w):
    crowded = make_unit(w.a, unit_class=UnitClass.KEY, crowded=True)
    make_unit(w.a, unit_class=UnitClass.KEY)
    general = make_unit(w.a, unit_class=UnitClass.GENERAL)
    old = make_unit(w.a, unit_class=UnitClass.GENERAL)
    make_unit(w.a, unit_class=UnitClass.NINE_SMALL)
    make_unit(w.a, unit_class=UnitClass.GENERAL, status=UnitStatus.CLOSED)
    drafted = make_unit(w.a, unit_class=UnitClass.NINE_SMALL)
    make_unit(w.other, unit_class=UnitClass.GENERAL)
    day = dt.date(2026, 3, 1)
    make_inspection(make_task(w.a, crowded, w.version, day), dt.datetime(2026, 3, 1, tzinfo=UTC))
    for _ in range(2):
        make_inspection(make_task(w.a, general, w.version, day), dt.datetime(2026, 3, 2, tzinfo=UTC))
    make_inspection(make_task(w.a, old, w.version, dt.date(2025, 6, 1)), dt.datetime(2025, 6, 1, tzinfo=UTC))
    make_inspection(make_task(w.a, drafted, w.version, day))  # a draft is not an inspection done
    item = make_item(w.a)
    _db.session.add(Plan(org_id=w.a.id, item_id=item.id, year=2026, name="年度计划", targets={"key": 90}))
    _db.session.commit()

    cover = {c.cls: c for c in queries.coverage(w.sup_city, TODAY)}
    assert [(c.units, c.inspected) for c in cover.values()] == [(1, 1), (1, 0), (2, 1), (2, 0)]
    assert cover["general"].pct == 50
    assert {k: c.target for k, c in cover.items()} == {"key_crowded": 100, "key": 90, "general": 20, "nine_small": 20}


def test_projection_is_linear_to_year_end():
    assert queries.projection(10, dt.date(2026, 12, 31)) == pytest.approx(10)
    assert queries.projection(25, dt.date(2026, 7, 2)) == pytest.approx(25 * 365 / 183)
    assert queries.projection(80, dt.date(2026, 3, 1)) == 100


def test_categories_count_current_records_in_scope(w):
    u = make_unit(w.a)
    at = dt.datetime(2026, 5, 1, tzinfo=UTC)
    first = make_inspection(make_task(w.a, u, w.version, dt.date(2026, 5, 1)), at, PublishedCategory.NO_PROBLEM)
    make_inspection(first.task, at, PublishedCategory.ORDERED_RECTIFY, supersedes=first)  # the correction counts
    make_inspection(make_task(w.a, u, w.version, dt.date(2026, 5, 1)), at, PublishedCategory.ORDERED_RECTIFY)
    make_inspection(
        make_task(w.other, make_unit(w.other), w.version, dt.date(2026, 5, 1)), at, PublishedCategory.NO_PROBLEM
    )
    _db.session.commit()
    assert queries.categories(w.sup_city, TODAY) == {"ordered_rectify": 2}


def test_open_and_overdue_orders_by_region_and_risk(w):
    specs = [
        ("偃师区", RiskLevel.RED, OrderStatus.PENDING, dt.date(2026, 11, 20)),
        ("偃师区", RiskLevel.RED, OrderStatus.PENDING, dt.date(2026, 11, 30)),
        ("偃师区", RiskLevel.BLUE, OrderStatus.RECTIFIED, dt.date(2026, 11, 1)),
        (None, RiskLevel.BLUE, OrderStatus.PENDING, dt.date(2026, 11, 1)),
    ]
    for n, (region, risk, status, deadline) in enumerate(specs):
        u = make_unit(w.a, region=region, risk_level=risk)
        t = make_task(w.a, u, w.version, dt.date(2026, 11, 1))
        ins = make_inspection(t, dt.datetime(2026, 11, 1, tzinfo=UTC))
        _db.session.add(
            RectificationOrder(
                org_id=w.a.id,
                inspection_id=ins.id,
                task_id=t.id,
                unit_id=u.id,
                kind=OrderKind.DEADLINE,
                number=f"偃消限字〔2026〕{n}号",
                year=2026,
                seq=n,
                problems=[],
                issued_at=dt.datetime(2026, 11, 1, tzinfo=UTC),
                issued_on=dt.date(2026, 11, 1),
                deadline=deadline,
                status=status,
            )
        )
    _db.session.commit()
    by_region = {r.key: (r.open, r.overdue) for r in queries.orders_by_region(w.sup_a, TODAY)}
    assert by_region == {"偃师区": (2, 1), "": (1, 1)}
    by_risk = {r.key: (r.open, r.overdue) for r in queries.orders_by_risk(w.sup_a, TODAY)}
    assert by_risk == {"red": (2, 1), "blue": (1, 1)}
    other_sup = make_user(w.other, Role.SUPERVISOR)
    assert queries.orders_by_region(other_sup, TODAY) == []


def test_hbars_escapes_labels_and_scales():
    svg = str(hbars([Bar("<b>大队</b>", 5, "5/10"), Bar("二", 10)], "标题", scale=10))
    assert "&lt;b&gt;大队&lt;/b&gt;" in svg and "<b>" not in svg
    assert 'width="140.0"' in svg and 'width="280.0"' in svg  # half and full of the 280 px bar span
    assert "5/10" in svg


def test_page_for_supervisor_shows_own_organisations(w, client, login_as):
    today = calendar.today()
    make_task(w.a, make_unit(w.a), w.version, today, TaskStatus.PLANNED, [(w.x, True)])
    make_task(w.other, make_unit(w.other), w.version, today)
    _db.session.commit()
    login_as(w.sup_city)
    resp = client.get("/dashboard/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "监管看板" in html and "<svg" in html and "<details>" in html
    assert "偃师大队" in html and "王小锋" in html
    assert "外市大队" not in html
    assert "九小场所" in html and "发现问题已责令改正" in html
    assert "/dashboard/" in client.get("/").get_data(as_text=True)


def test_page_refused_to_inspectors(w, client, login_as):
    insp_user = make_user(w.a, Role.INSPECTOR)
    _db.session.commit()
    login_as(insp_user)
    assert client.get("/dashboard/").status_code == 403


def submitted(w, unit, by, started, minutes, **kw):
    t = make_task(w.a, unit, w.version, started.date(), TaskStatus.SUBMITTED)
    ins = make_inspection(t, started + dt.timedelta(minutes=minutes))
    ins.started_at = started
    ins.submitted_by_id = by.id
    for k, v in kw.items():
        setattr(ins, k, v)
    _db.session.flush()
    return ins


def test_warning_signs(w):
    from webapp.inspections.models import Photo

    fast, slow = (
        make_user(w.a, Role.INSPECTOR, display_name="快手"),
        make_user(w.a, Role.INSPECTOR, display_name="慢手"),
    )
    unit = make_unit(w.a, name="坐标单位", latitude=34.7, longitude=112.8)
    base = dt.datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    for i in range(5):  # five results within 40 minutes, each after a 30-minute check
        submitted(w, unit, fast, base + dt.timedelta(minutes=10 * i), 30)
    for i in range(3):  # three within the hour: not a warning
        submitted(w, unit, slow, base + dt.timedelta(hours=5, minutes=10 * i), 30)
    far = submitted(w, unit, slow, base + dt.timedelta(days=1), 60, checkin_lat=34.7, checkin_lon=112.815)
    near = submitted(w, unit, slow, base + dt.timedelta(days=2), 60, checkin_lat=34.7, checkin_lon=112.808)
    short = submitted(w, unit, slow, base + dt.timedelta(days=3), 5)
    for ins in [far, near, short]:
        _db.session.add(Photo(inspection_id=ins.id, sha256="0" * 64))
    other_unit = make_unit(w.other)
    t = make_task(w.other, other_unit, w.version, base.date(), TaskStatus.SUBMITTED)
    make_inspection(t, base + dt.timedelta(minutes=2)).started_at = base  # another city's: not shown
    _db.session.commit()

    signs = queries.warnings(w.sup_city, TODAY)
    burst = [s for s in signs if s.kind == "burst"]
    assert [(s.who, s.figure) for s in burst] == [("快手", 5.0)]
    far_signs = [s for s in signs if s.kind == "far"]
    assert [s.task_public_id for s in far_signs] == [far.task.public_id]
    assert far_signs[0].figure == pytest.approx(1.37, abs=0.01)
    assert [s.task_public_id for s in signs if s.kind == "short"] == [short.task.public_id]
    no_photo = {s.task_public_id for s in signs if s.kind == "no_photo"}
    assert len(no_photo) == 8 and far.task.public_id not in no_photo and t.public_id not in no_photo


def test_page_links_warning_signs_to_the_task(w, client, login_as):
    u = make_user(w.a, Role.INSPECTOR)
    started = dt.datetime.now(UTC) - dt.timedelta(minutes=3)
    ins = submitted(w, make_unit(w.a, name="匆忙单位"), u, started, 2)
    _db.session.commit()
    login_as(w.sup_a)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "检查用时不足10分钟（1）" in html.split("</title>", 1)[1]  # in the page, not its title
    assert f"/draw/t/{ins.task.public_id}" in html and "匆忙单位" in html
