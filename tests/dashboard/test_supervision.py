"""监管看板, supervision of the work: inspectors who cannot go, the month's draw on time, frequent problems,
复查 outcomes, problem rates by region / industry / risk, load imbalance, data gaps and sensitive audit events."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import make_inspection, make_inspector, make_item, make_org, make_task, make_unit, make_user
from webapp import audit, calendar
from webapp.auth.models import OrgKind, Role
from webapp.dashboard import queries
from webapp.draw.models import Draw, DrawStatus, Plan
from webapp.extensions import db as _db
from webapp.inspections.models import CheckResult, Finding, PublishedCategory
from webapp.rectification.models import FollowUp, FollowUpKind, OrderKind, OrderStatus, RectificationOrder
from webapp.registry.models import InspectorConflict, InspectorStatus, InspectorUnavailability, RiskLevel
from webapp.tasks.models import TaskStatus

TODAY = dt.date(2026, 11, 23)  # a Monday; November's draw window was 29–30 October
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
    w.c = make_org(code="c", name="伊川县消防救援大队", parent=w.city)
    w.other = make_org(code="x", name="外市大队")
    w.item = make_item(w.city, points=["消防车通道畅通", "疏散指示标志完好", "灭火器有效"])
    w.version = w.item.current.id
    w.points = {p.text: p.id for p in w.item.current.points}
    w.sup_city = make_user(w.city, Role.SUPERVISOR)
    w.sup_a = make_user(w.a, Role.SUPERVISOR)
    w.sup_other = make_user(w.other, Role.SUPERVISOR)
    return w


@pytest.fixture
def dashboard_page(w, client, login_as, monkeypatch):
    """The dashboard's HTML as the 支队 supervisor sees it on TODAY."""
    monkeypatch.setattr(calendar, "today", lambda: TODAY)

    def _get(user=None):
        _db.session.commit()
        login_as(user or w.sup_city)
        resp = client.get("/dashboard/")
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    return _get


def section(html: str, ident: str, end: str = "</section>") -> str:
    """The visible text of one card (or, with ``end="</details>"``, one fold) of the page, tags and SVG removed."""
    part = html.split(f'id="{ident}"', 1)[1].split(end, 1)[0]
    part = re.sub(r"<svg.*?</svg>", " ", part, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)).strip()


# ------------------------------------------------------------------------------------------- cannot go


def cannot_go_world(w):
    u = make_unit(w.a, name="首阳山超市")
    kin = make_unit(w.a, name="亲戚的饭店")
    ok = make_inspector(w.a, name="能去")
    sick = make_inspector(w.a, name="病假者")
    _db.session.add(
        InspectorUnavailability(
            inspector_id=sick.id, start_date=dt.date(2026, 11, 20), end_date=dt.date(2026, 11, 30), reason="病假"
        )
    )
    back = make_inspector(w.a, name="销假者")  # leave cancelled: can go
    _db.session.add(
        InspectorUnavailability(
            inspector_id=back.id,
            start_date=dt.date(2026, 11, 1),
            end_date=dt.date(2026, 11, 30),
            reason="年假",
            cancelled=True,
        )
    )
    frozen = make_inspector(w.a, name="冻结者", status=InspectorStatus.FROZEN)
    expired = make_inspector(w.a, name="证过期", cert_valid_until=dt.date(2026, 11, 10))
    related = make_inspector(w.a, name="有亲属")
    _db.session.add(InspectorConflict(inspector_id=related.id, unit_id=kin.id, reason="亲属任职"))
    t = {}
    t["leave"] = make_task(w.a, u, w.version, dt.date(2026, 11, 25), TaskStatus.PLANNED, [(ok, True), (sick, True)])
    # the frozen one is active; the expired one was already replaced (inactive): only the freeze counts
    t["frozen"] = make_task(
        w.a, u, w.version, dt.date(2026, 11, 26), TaskStatus.IN_PROGRESS, [(frozen, True), (expired, False)]
    )
    t["expired"] = make_task(w.a, u, w.version, dt.date(2026, 11, 27), TaskStatus.PLANNED, [(expired, True)])
    t["conflict"] = make_task(w.a, kin, w.version, dt.date(2026, 11, 27), TaskStatus.PLANNED, [(related, True)])
    t["fine"] = make_task(w.a, kin, w.version, dt.date(2026, 11, 24), TaskStatus.PLANNED, [(ok, True), (back, True)])
    # not counted: submitted, cancelled, next month, before the leave, another city's
    make_task(w.a, u, w.version, dt.date(2026, 11, 25), TaskStatus.SUBMITTED, [(sick, True)])
    make_task(w.a, u, w.version, dt.date(2026, 11, 25), TaskStatus.CANCELLED, [(sick, True)])
    make_task(w.a, u, w.version, dt.date(2026, 12, 2), TaskStatus.PLANNED, [(sick, True)])
    make_task(w.a, u, w.version, dt.date(2026, 11, 19), TaskStatus.PLANNED, [(sick, True)])
    ghost = make_inspector(w.other, name="外市冻结者", status=InspectorStatus.FROZEN)
    make_task(w.other, make_unit(w.other), w.version, dt.date(2026, 11, 25), TaskStatus.PLANNED, [(ghost, True)])
    _db.session.flush()
    return t


def test_cannot_go_lists_each_reason_once_and_in_scope(w):
    t = cannot_go_world(w)
    rows, total = queries.cannot_go(w.sup_city, TODAY)
    assert total == 4
    got = {(r.task_public_id, r.inspector): r for r in rows}
    assert set(got) == {
        (t["leave"].public_id, "病假者"),
        (t["frozen"].public_id, "冻结者"),
        (t["expired"].public_id, "证过期"),
        (t["conflict"].public_id, "有亲属"),
    }
    assert got[(t["leave"].public_id, "病假者")].leave == "病假"
    frozen = got[(t["frozen"].public_id, "冻结者")]
    assert frozen.frozen and not frozen.cert_expired and frozen.leave is None
    assert got[(t["expired"].public_id, "证过期")].cert_expired
    assert got[(t["conflict"].public_id, "有亲属")].conflict == "亲属任职"
    assert [r.planned_date for r in rows] == sorted(r.planned_date for r in rows)
    assert queries.cannot_go(w.sup_other, TODAY)[1] == 1  # the other city sees only its own
    few, total = queries.cannot_go(w.sup_city, TODAY, limit=2)
    assert (len(few), total) == (2, 4)


def test_page_links_cannot_go_tasks_to_the_replacement(w, dashboard_page):
    t = cannot_go_world(w)
    html = dashboard_page()
    text = section(html, "cannot-go")
    assert "检查人员无法到场的任务（4）" in text
    assert "2026-11-25 · 病假者（偃师大队） 请假或借调：病假" in text
    assert "利害关系回避：亲属任职" in text and "已冻结" in text and "执法证件过期" in text
    assert f'href="/draw/t/{t["leave"].public_id}"' in html and f'href="/draw/t/{t["conflict"].public_id}"' in html
    assert "外市冻结者" not in html and "销假者" not in text


# ------------------------------------------------------------------------------------------- draw on time


def plan(w, org, year=2026, **kw):
    p = Plan(org_id=org.id, item_id=w.item.id, year=year, name=f"{org.name}{year}年度抽查计划", **kw)
    _db.session.add(p)
    _db.session.flush()
    return p


def draw(w, p, period, committed, published=None, status=DrawStatus.PUBLISHED):
    d = Draw(
        plan_id=p.id,
        org_id=p.org_id,
        item_version_id=w.version,
        period=period,
        status=status,
        pool={},
        pool_hash="0" * 64,
        commitment="1" * 64,
        server_secret="2" * 64,
        committed_at=committed,
        published_at=published,
    )
    _db.session.add(d)
    _db.session.flush()
    return d


def draw_world(w):
    # a: committed 30 Oct 23:30 in Shanghai, the last day of the window: on time; December not yet drawn
    pa = plan(w, w.a)
    draw(w, pa, "2026-11", dt.datetime(2026, 10, 30, 15, 30, tzinfo=UTC), dt.datetime(2026, 10, 30, 15, 45, tzinfo=UTC))
    # b: committed 31 Oct 00:30 in Shanghai: late; December already drawn
    pb = plan(w, w.b)
    draw(w, pb, "2026-11", dt.datetime(2026, 10, 30, 16, 30, tzinfo=UTC), status=DrawStatus.DRAWN)
    draw(w, pb, "2026-12", dt.datetime(2026, 11, 23, 1, tzinfo=UTC))
    # c: two plans, one drawn, the other's draw abandoned: not drawn
    pc1, pc2 = plan(w, w.c), plan(w, w.c)
    draw(w, pc1, "2026-11", dt.datetime(2026, 10, 29, 2, tzinfo=UTC))
    draw(w, pc2, "2026-11", dt.datetime(2026, 10, 29, 2, tzinfo=UTC), status=DrawStatus.ABANDONED)
    plan(w, w.c, start_month=1, end_month=6)  # not this month's
    plan(w, w.other)


def test_draw_on_time_per_organisation(w):
    draw_world(w)
    rows = {r.org: r for r in queries.draw_timeliness(w.sup_city, TODAY)}
    assert set(rows) == {"偃师大队", "孟津区消防救援大队", "伊川县消防救援大队"}
    a, b, c = rows["偃师大队"], rows["孟津区消防救援大队"], rows["伊川县消防救援大队"]
    assert a.window == [dt.date(2026, 10, 29), dt.date(2026, 10, 30)]
    assert (a.state, b.state, c.state) == ("on_time", "late", "missing")
    assert (c.drawn, c.plans) == (1, 2)
    assert (a.next_state, b.next_state, c.next_state) == ("upcoming", "done", "upcoming")
    assert a.published == 1 and b.published == 0
    assert queries.draw_timeliness(w.sup_other, TODAY)[0].state == "missing"
    late = queries.draw_timeliness(w.sup_city, dt.date(2026, 12, 1))  # the December window has passed
    assert {r.org: r.next_state for r in late}["偃师大队"] == "no_plan"  # no 2027 plan yet


def test_page_shows_whether_the_draw_was_on_time(w, dashboard_page):
    draw_world(w)
    text = section(dashboard_page(), "draws")
    assert "本月抽取期间：2026-10-29、2026-10-30。" in text
    assert (
        "偃师大队 本月：按时 抽取时间：2026-10-30 23:30 · 公示时间：2026-10-30 23:45 下月抽取（2026-12）：未到抽取时间"
        in text
    )
    assert "孟津区消防救援大队 本月：迟 抽取时间：2026-10-31 00:30 · 公示时间：— 下月抽取（2026-12）：已抽取" in text
    assert "伊川县消防救援大队 本月：未抽取（1/2）" in text
    assert "外市大队" not in text


# ------------------------------------------------------------------------------------------- results


def inspected(w, org, unit, at, result=None, category=None, supersedes=None):
    task = supersedes.task if supersedes else make_task(org, unit, w.version, at.date(), TaskStatus.SUBMITTED)
    ins = make_inspection(task, at, category, supersedes=supersedes)
    ins.result = result
    return ins


def finding(ins, point_id, seq=1):
    _db.session.add(Finding(inspection_id=ins.id, point_id=point_id, seq=seq, text="问题"))


def test_most_frequent_problems_by_checklist_point(w, dashboard_page):
    at = dt.datetime(2026, 6, 1, tzinfo=UTC)
    road, signs = w.points["消防车通道畅通"], w.points["疏散指示标志完好"]
    u1, u2 = make_unit(w.a), make_unit(w.b)
    i1 = inspected(w, w.a, u1, at)
    finding(i1, road, 1)
    finding(i1, road, 2)
    finding(i1, None, 3)
    i2 = inspected(w, w.b, u2, at)
    finding(i2, road)
    finding(i2, None, 2)
    old = inspected(w, w.a, u1, at)  # superseded: its findings are replaced by the supplement's
    finding(old, signs)
    finding(old, signs, 2)
    finding(old, signs, 3)
    finding(old, signs, 4)
    new = inspected(w, w.a, u1, at, supersedes=old)
    finding(new, signs)
    finding(inspected(w, w.a, u1, dt.datetime(2025, 6, 1, tzinfo=UTC)), signs)  # last year
    finding(inspected(w, w.other, make_unit(w.other), at), signs)  # another city
    _db.session.flush()
    rows = [(r.point, r.findings, r.units) for r in queries.frequent_problems(w.sup_city, TODAY)]
    assert rows == [("消防车通道畅通", 3, 2), (None, 2, 2), ("疏散指示标志完好", 1, 1)]
    assert [r.point for r in queries.frequent_problems(w.sup_city, TODAY, limit=1)] == ["消防车通道畅通"]
    text = section(dashboard_page(), "results")
    assert "消防车通道畅通 3 2 其他问题 2 2 疏散指示标志完好 1 1" in text
    assert "最常见的问题（按检查要点）" in dashboard_page()


def order(w, org, n, status, deadline, year=2026, follow=None):
    u = make_unit(org)
    t = make_task(org, u, w.version, dt.date(year, 3, 1))
    ins = make_inspection(t, dt.datetime(year, 3, 1, tzinfo=UTC))
    o = RectificationOrder(
        org_id=org.id,
        inspection_id=ins.id,
        task_id=t.id,
        unit_id=u.id,
        kind=OrderKind.DEADLINE,
        number=f"{org.code}限字〔{year}〕{n}号",
        year=year,
        seq=n,
        problems=[],
        issued_at=dt.datetime(year, 3, 1, tzinfo=UTC),
        issued_on=dt.date(year, 3, 1),
        deadline=deadline,
        status=status,
    )
    _db.session.add(o)
    _db.session.flush()
    if follow:
        _db.session.add(FollowUp(order_id=o.id, kind=follow))
    return o


def test_reinspection_outcomes_and_follow_ups(w, dashboard_page):
    d = dt.date(2026, 4, 1)
    order(w, w.a, 1, OrderStatus.RECTIFIED, d)
    order(w, w.b, 2, OrderStatus.RECTIFIED, d)
    order(w, w.a, 3, OrderStatus.NOT_RECTIFIED, d, follow=FollowUpKind.PENALTY)
    order(w, w.a, 4, OrderStatus.NOT_RECTIFIED, d, follow=FollowUpKind.REFERRAL)
    order(w, w.a, 5, OrderStatus.NOT_RECTIFIED, d, follow=FollowUpKind.REFERRAL)
    order(w, w.a, 6, OrderStatus.PENDING, dt.date(2026, 11, 30))  # not yet due
    order(w, w.a, 7, OrderStatus.PENDING, dt.date(2026, 11, 20))  # overdue
    order(w, w.a, 8, OrderStatus.PENDING, dt.date(2026, 11, 22))
    order(w, w.a, 9, OrderStatus.RECTIFIED, dt.date(2025, 4, 1), year=2025)  # last year's
    order(w, w.other, 10, OrderStatus.NOT_RECTIFIED, d, follow=FollowUpKind.PENDING)  # another city
    assert queries.order_outcomes(w.sup_city, TODAY) == {
        "rectified": 2,
        "not_rectified": 3,
        "pending": 1,
        "overdue": 2,
    }
    assert queries.follow_ups(w.sup_city, TODAY) == {"penalty": 1, "referral": 2, "pending": 0}
    assert queries.order_outcomes(w.sup_other, TODAY)["not_rectified"] == 1
    text = section(dashboard_page(), "orders")
    assert "已改正 2 逾期未改正 3 待复查（未到期限） 1 待复查（已过期限） 2" in text
    assert "行政处罚 1 移送其他部门 2 待后续处理 0" in text


def test_problem_rates_by_region_industry_and_risk(w, dashboard_page):
    at = dt.datetime(2026, 6, 1, tzinfo=UTC)
    u1 = make_unit(w.a, region="偃师区", industry="餐饮", risk_level=RiskLevel.RED)
    u2 = make_unit(w.b, region="孟津区", industry=None, risk_level=RiskLevel.BLUE)
    u3 = make_unit(w.b, region="伊川县", industry="餐饮", risk_level=RiskLevel.BLUE)
    inspected(w, w.a, u1, at, CheckResult.DEADLINE, PublishedCategory.ORDERED_RECTIFY)
    inspected(w, w.a, u1, at, CheckResult.NO_PROBLEM, PublishedCategory.NO_PROBLEM)
    first = inspected(w, w.a, u1, at, CheckResult.NO_PROBLEM, PublishedCategory.NO_PROBLEM)
    inspected(w, w.a, u1, at, CheckResult.IMMEDIATE, PublishedCategory.ORDERED_RECTIFY, supersedes=first)
    inspected(w, w.b, u2, at, None, PublishedCategory.NOT_DISCLOSED)
    inspected(w, w.b, u2, at, None, PublishedCategory.NO_ACTIVITY)  # no business activity: not a problem
    inspected(w, w.b, u3, at, CheckResult.NO_PROBLEM, PublishedCategory.NO_PROBLEM)
    inspected(w, w.a, u1, dt.datetime(2025, 6, 1, tzinfo=UTC), CheckResult.DEADLINE)  # last year
    inspected(w, w.other, make_unit(w.other, region="偃师区"), at, CheckResult.DEADLINE)  # another city
    _db.session.flush()

    rates = queries.problems_by(w.sup_city, TODAY)
    as_tuples = {d: [(r.key, r.inspections, r.problems) for r in rows] for d, rows in rates.items()}
    assert as_tuples["region"] == [("偃师区", 3, 2), ("孟津区", 2, 1), ("伊川县", 1, 0)]
    assert as_tuples["industry"] == [("餐饮", 4, 2), ("", 2, 1)]
    assert sorted(as_tuples["risk_level"]) == [("blue", 3, 1), ("red", 3, 2)]
    assert rates["region"][0].rate == pytest.approx(200 / 3)
    folded = queries.problems_by(w.sup_city, TODAY, top=1)["region"]
    assert [(r.key, r.inspections, r.problems) for r in folded] == [("偃师区", 3, 2), (queries.OTHERS, 3, 1)]

    html = dashboard_page()
    text = section(html, "analysis")
    assert "偃师区 3 2 67% 孟津区 2 1 50% 伊川县 1 0 0%" in text
    assert "餐饮 4 2 50% 未填写 2 1 50%" in text
    assert "红（重大风险） 3 2 67% 蓝（一般风险） 3 1 33%" in text  # from red to green
    assert "67%（2/3）" in html  # the bar's label


# ------------------------------------------------------------------------------------------- warning signs


def test_load_imbalance_against_the_median(w, dashboard_page):
    u = make_unit(w.a)
    busy, one, two, three = (make_inspector(w.a, name=n) for n in ("忙人", "甲", "乙", "丙"))
    idle = make_inspector(w.a, name="闲人")
    frozen = make_inspector(w.a, name="冻结者", status=InspectorStatus.FROZEN)
    make_inspector(w.a, name="证过期", cert_valid_until=dt.date(2026, 11, 1))
    day = dt.date(2026, 11, 10)
    for _ in range(3):
        make_task(w.a, u, w.version, day, TaskStatus.SUBMITTED, [(busy, True)])
    make_task(w.a, u, w.version, day, TaskStatus.PLANNED, [(one, True), (two, True)])
    make_task(w.a, u, w.version, day, TaskStatus.PLANNED, [(three, True), (idle, False)])  # replaced
    make_task(w.a, u, w.version, day, TaskStatus.CANCELLED, [(idle, True)])
    make_task(w.a, u, w.version, dt.date(2026, 12, 1), TaskStatus.PLANNED, [(idle, True)])
    for _ in range(5):
        make_task(w.a, u, w.version, day, TaskStatus.PLANNED, [(frozen, True)])
    make_inspector(w.other, name="外市闲人")

    report = queries.load_balance(w.sup_a, TODAY)
    assert (report.inspectors, report.median) == (5, 1.0)  # counts 0, 1, 1, 1, 3
    assert [(x.inspector, x.tasks) for x in report.high] == [("忙人", 3)]
    assert [(x.inspector, x.tasks) for x in report.low] == [("闲人", 0)]

    html = dashboard_page(w.sup_a)
    text = section(html, "load", "</details>")
    assert "检查人员任务量不均衡（2）" in text
    assert "本月可抽取的5名检查人员，每人任务数的中位数为1" in text
    assert "忙人（偃师大队） 本月3项任务，偏多" in text and "闲人（偃师大队） 本月0项任务，偏少" in text
    assert f'href="/registry/inspectors/{busy.public_id}"' in html
    assert "外市闲人" not in html


def test_unit_library_gaps_link_to_the_quality_page(w, dashboard_page):
    from webapp.registry.models import UnitStatus
    from webapp.registry.units.queries import quality_report

    make_unit(w.a, address=None)
    make_unit(w.a, safety_person=None, uscc=None)
    make_unit(w.a)
    make_unit(w.a, status=UnitStatus.ZOMBIE)
    make_unit(w.other, address=None)
    total, _per_org = quality_report(w.sup_city)
    html = dashboard_page()
    text = section(html, "quality", "</details>")
    assert f"检查对象名录库数据缺失与疑似僵尸单位（{2 + total.suspect}）" in text
    assert f"疑似僵尸单位：{total.suspect}" in text
    assert "信息不全的正常单位：2" in text and "已标记为僵尸单位：1" in text and "正常单位总数：3" in text
    assert 'href="/registry/quality"' in html


def test_freezes_and_deletions_this_month_newest_first(w, dashboard_page):
    victim = make_inspector(w.a, name="被冻结者")
    outsider = make_inspector(w.other, name="外市人员")
    ev_old = audit.record(w.sup_a, "inspector.frozen", victim, {}, reason="上月的冻结")
    ev_freeze = audit.record(w.sup_a, "inspector.frozen", victim, {}, reason="长期病假")
    ev_del = audit.record(w.sup_a, "inspection.finding_delete", ("finding", "F1"), {}, reason="录错了", org_id=w.a.id)
    audit.record(w.sup_a, "inspector.updated", victim, {}, reason="改电话")  # not a sensitive action
    audit.record(w.sup_other, "inspector.frozen", outsider, {}, reason="外市冻结")
    ev_old.at = dt.datetime(2026, 10, 31, 15, tzinfo=UTC)  # 31 Oct 23:00 in Shanghai: last month
    ev_freeze.at = dt.datetime(2026, 11, 20, 2, tzinfo=UTC)
    ev_del.at = dt.datetime(2026, 11, 21, 2, tzinfo=UTC)
    _db.session.flush()

    events, total = queries.sensitive_events(w.sup_city, TODAY)
    assert total == 2
    assert [(e.action, e.reason) for e in events] == [
        ("inspection.finding_delete", "录错了"),
        ("inspector.frozen", "长期病假"),
    ]
    html = dashboard_page()
    text = section(html, "deletions", "</details>")
    assert "本月删除、冻结、作废等操作（2）" in text
    assert f"删除检查发现的问题 {w.sup_a.username} · 2026-11-21 10:00 · 原因：录错了" in text
    assert "冻结执法检查人员" in text and "外市冻结" not in html and "上月的冻结" not in html
    assert f'href="/registry/audit?subject=inspector:{victim.id}"' in html
