"""The draw services on a real database: eligibility with its reasons, inspector exclusions, joint items,
replacement and abandonment rules, the audit trail, the reminder and cross-region draws."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.factories import known_years, make_inspector, make_item, make_org, make_unit, make_user
from webapp import audit
from webapp.audit import AuditEvent
from webapp.auth import access
from webapp.auth.models import OrgKind, Role
from webapp.calendar import CalendarOverride
from webapp.draw import engine, services
from webapp.draw.models import Draw, DrawStatus, PlanKind
from webapp.draw.plans import eligibility
from webapp.registry.models import InspectorConflict, InspectorStatus, InspectorUnavailability, UnitClass, UnitStatus
from webapp.tasks.models import Task, TaskKind, TaskStatus

YEAR = 2030  # a future year: chinese-calendar does not know it, so every weekday is a working day
PERIOD = "2030-09"
VALID = dt.date(YEAR + 1, 12, 31)  # certificate valid through the whole period
EARLY = "测试：提前抽取（本期在测试日之后数年）"


def inspector(org, **kw):
    kw.setdefault("cert_valid_until", VALID)
    return make_inspector(org, **kw)


def past_task(unit, item, day: dt.date, kind=TaskKind.ROUTINE, status=TaskStatus.SUBMITTED) -> Task:
    from webapp.extensions import db

    task = Task(
        org_id=unit.org_id, unit_id=unit.id, item_version_id=item.current.id, kind=kind, planned_date=day, status=status
    )
    db.session.add(task)
    db.session.flush()
    return task


def special_plan(actor, org, item, quotas: dict, **kw):
    return services.create_plan(
        actor, org=org, item=item, year=YEAR, kind=PlanKind.SPECIAL, monthly_quotas=quotas, targets={}, **kw
    )


def ceremony(db, actor, plan, period: str = PERIOD, today: dt.date | None = None, witness: str = "314159") -> Draw:
    draw = services.commit(actor, plan, period, today=today, early_reason=EARLY)
    db.session.commit()
    services.add_witness(actor, draw, "王监督", "廉政监督员", witness)
    db.session.commit()
    services.perform(actor, draw)
    db.session.commit()
    return draw


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    known_years(YEAR, YEAR + 1)


@pytest.fixture(autouse=True)
def chinese(db):
    """Service messages are Chinese; outside a request the locale is forced, as the CLI does."""
    with force_locale("zh_Hans"):
        yield


@pytest.fixture
def brigade(db):
    org = make_org(code="d1", name="偃师区消防救援大队")
    item = make_item(org, code="fire-duty")
    sup = make_user(org, Role.SUPERVISOR)
    return org, item, sup


def test_eligibility_excludes_units_with_the_reason_shown(db, brigade):
    org, item, sup = brigade
    ok = make_unit(org, "从未检查单位")
    old = make_unit(org, "半年前检查过一次")
    past_task(old, item, dt.date(YEAR, 2, 1))
    reinspected = make_unit(org, "只做过复查")
    past_task(reinspected, item, dt.date(YEAR, 8, 1), kind=TaskKind.REINSPECTION)
    cancelled = make_unit(org, "任务已随放弃的抽取取消")
    past_task(cancelled, item, dt.date(YEAR, 8, 1), status=TaskStatus.CANCELLED)
    closed = make_unit(org, "已注销单位", status=UnitStatus.CLOSED)
    zombie = make_unit(org, "僵尸单位", status=UnitStatus.ZOMBIE)
    twice = make_unit(org, "今年已查两次")
    past_task(twice, item, dt.date(YEAR, 1, 10))
    past_task(twice, item, dt.date(YEAR, 2, 20))
    recent = make_unit(org, "不满六个月")
    past_task(recent, item, dt.date(YEAR, 5, 10))
    last_year = make_unit(org, "去年查过两次")
    past_task(last_year, item, dt.date(YEAR - 1, 1, 10))
    past_task(last_year, item, dt.date(YEAR - 1, 2, 10))
    key = make_unit(org, "本期已被另一计划抽中", unit_class=UnitClass.KEY)
    for _ in range(4):
        inspector(org)
    other = special_plan(sup, org, item, {"key": 1}, name="消防安全专项检查")
    first = ceremony(db, sup, other)
    assert [t["unit_id"] for t in first.result] == [key.public_id]

    plan = special_plan(sup, org, item, {"general": 20, "key": 5})
    elig = eligibility(plan, PERIOD)
    reasons = {e["unit_id"]: e["reason"] for e in elig.excluded}
    assert reasons == {
        closed.public_id: "closed",
        zombie.public_id: "zombie",
        twice.public_id: "twice_this_year",
        recent.public_id: "less_than_6_months",
        key.public_id: "already_drawn",
    }
    pool = {u["id"] for u in elig.units}
    assert pool == {u.public_id for u in (ok, old, reinspected, cancelled, last_year)}

    draw = ceremony(db, sup, plan)
    drawn = {t["unit_id"] for t in draw.result}
    assert drawn == pool  # quota above the pool: every eligible unit, no excluded one
    bundle = services.bundle(draw)  # /2: the exclusions are part of the frozen pool (DRAW_SPEC section 5)
    assert {e["unit_id"]: e["reason"] for e in bundle["pool"]["excluded"]} == reasons


def test_routine_mandatory_stratum_spreads_what_is_left_over_the_months_left(db, brigade):
    org, item, sup = brigade
    crowded = [make_unit(org, unit_class=UnitClass.KEY, crowded=True) for _ in range(9)]
    past_task(crowded[0], item, dt.date(YEAR, 1, 15))  # done this year: not drawn again for 100 % coverage
    plan = services.create_plan(sup, org=org, item=item, year=YEAR)
    elig = eligibility(plan, "2030-10")  # 3 months left, 8 of 9 still to do
    assert elig.quotas["key_crowded"] == 3
    assert {"unit_id": crowded[0].public_id, "reason": "done_this_year"} in elig.excluded


def test_inspector_pool_exclusions_and_constraints(db, brigade):
    org, item, sup = brigade
    units = [make_unit(org) for _ in range(6)]
    expired = inspector(org, name="证件过期", cert_valid_until=dt.date(YEAR - 1, 12, 31))
    expiring = inspector(org, name="本月证件到期", cert_valid_until=dt.date(YEAR, 9, 15))
    no_cert = inspector(org, name="无执法证", cert_no=None, cert_valid_until=None)
    frozen = inspector(org, name="已冻结", status=InspectorStatus.FROZEN, status_reason="停职检查")
    away = inspector(org, name="全月借调")
    on_leave = inspector(org, name="上半月请假")
    conflicted = inspector(org, name="有利害关系")
    others = [inspector(org), inspector(org), inspector(org, can_lead=False)]
    db.session.add_all(
        [
            InspectorUnavailability(
                inspector_id=away.id, start_date=dt.date(YEAR, 8, 20), end_date=dt.date(YEAR, 10, 5), reason="借调"
            ),
            InspectorUnavailability(
                inspector_id=on_leave.id, start_date=dt.date(YEAR, 9, 1), end_date=dt.date(YEAR, 9, 15), reason="年假"
            ),
            InspectorConflict(inspector_id=conflicted.id, unit_id=units[0].id, reason="亲属任法定代表人"),
        ]
    )
    db.session.flush()
    plan = special_plan(sup, org, item, {"general": 6})
    elig = eligibility(plan, PERIOD)
    out = {e["inspector_id"]: e["reasons"] for e in elig.inspector_excluded}
    assert out == {
        expired.public_id: ["cert_expired"],
        expiring.public_id: ["cert_expires_in_period"],
        no_cert.public_id: ["cert_missing"],
        frozen.public_id: ["frozen"],
        away.public_id: ["unavailable_all_period"],
    }
    pool = {i["id"]: i for i in elig.inspectors}
    assert set(pool) == {on_leave.public_id, conflicted.public_id} | {i.public_id for i in others}
    assert pool[conflicted.public_id]["conflicts"] == [units[0].public_id]
    assert "2030-09-02" in pool[on_leave.public_id]["unavailable"]
    assert "2030-09-16" not in pool[on_leave.public_id]["unavailable"]

    draw = ceremony(db, sup, plan)
    leave_days = set(pool[on_leave.public_id]["unavailable"])
    by_unit = {t["unit_id"]: t for t in draw.result}
    for task in draw.result:
        ids = [a["inspector_id"] for a in task["assignments"]]
        assert len(ids) == 2 and len(set(ids)) == 2
        assert not set(ids) & set(out)
        if task["planned_date"] in leave_days:
            assert on_leave.public_id not in ids
        lead = task["assignments"][0]["inspector_id"]
        assert lead != others[2].public_id  # cannot lead
    assert conflicted.public_id not in [a["inspector_id"] for a in by_unit[units[0].public_id]["assignments"]]


def test_joint_item_needs_inspectors_of_each_department(db, brigade):
    org, _item, sup = brigade
    market = make_org(code="market", name="偃师区市场监督管理局", kind=OrgKind.DEPARTMENT, dept="market")
    joint = make_item(org, code="joint-product", name="消防产品质量联合抽查", departments="fire,market")
    for _ in range(3):
        make_unit(org)
    for _ in range(3):
        inspector(org)
    with pytest.raises(services.DrawError, match="联合抽查事项需要各部门的检查人员"):
        special_plan(sup, org, joint, {"general": 3}, slots=[{"dept": "fire", "role": "lead"}] * 2)
    plan = special_plan(sup, org, joint, {"general": 3})
    assert market.id in plan.inspector_org_ids
    db.session.commit()
    # nobody from market regulation yet: refused before commit
    with pytest.raises(services.DrawError, match="检查人员不足"):
        services.commit(sup, plan, PERIOD, early_reason=EARLY)
    db.session.rollback()
    assert db.session.execute(select(Draw.id)).first() is None

    market_people = {inspector(market, post="市场监管执法人员").public_id for _ in range(2)}
    draw = ceremony(db, sup, plan)
    assert len(draw.result) == 3
    for task in db.session.execute(select(Task).where(Task.draw_id == draw.id)).scalars():
        depts = sorted(a.dept for a in task.active_assignments)
        assert depts == ["fire", "fire", "market"]
        assert {a.inspector.public_id for a in task.active_assignments if a.dept == "market"} <= market_people


def test_draw_needs_a_witness_and_happens_once(db, brigade):
    org, item, sup = brigade
    for _ in range(2):
        make_unit(org)
    for _ in range(3):
        inspector(org)
    plan = special_plan(sup, org, item, {"general": 2})
    draw = services.commit(sup, plan, PERIOD, early_reason=EARLY)
    db.session.commit()
    with pytest.raises(services.DrawError, match="至少需要1位见证人"):
        services.perform(sup, draw)
    with pytest.raises(services.DrawError, match="本期已有抽取记录"):
        services.commit(sup, plan, PERIOD, early_reason=EARLY)
    db.session.rollback()
    services.add_witness(sup, draw, "李代表", "企业代表", "  ６６１２３  ")  # NFC-normalised, stripped
    db.session.commit()
    services.perform(sup, draw)
    db.session.commit()
    with pytest.raises(services.DrawError, match="本次抽取已经完成"):
        services.perform(sup, draw)
    with pytest.raises(services.DrawError, match="不能再添加见证人"):
        services.add_witness(sup, draw, "迟到者", "媒体", "1")
    db.session.rollback()
    assert draw.witnesses[0].value == engine.normalise_witness("６６１２３")
    assert draw.seed == engine.compute_seed(draw.pool_hash, draw.server_secret, [draw.witnesses[0].value])


def test_abandon_needs_a_reason_and_stays_public(db, brigade):
    org, item, sup = brigade
    units = [make_unit(org) for _ in range(2)]
    for _ in range(3):
        inspector(org)
    plan = special_plan(sup, org, item, {"general": 2})
    draw = ceremony(db, sup, plan)
    with pytest.raises(services.DrawError, match="放弃抽取必须填写原因"):
        services.abandon(sup, draw, "   ")
    db.session.rollback()
    assert draw.status == DrawStatus.DRAWN
    services.abandon(sup, draw, "见证人数值录入错误")
    db.session.commit()
    assert draw.status == DrawStatus.ABANDONED and draw.abandoned_reason == "见证人数值录入错误"
    assert {t.status for t in draw.tasks} == {TaskStatus.CANCELLED}
    bundle = services.bundle(draw)
    assert bundle["server_secret"] == draw.server_secret and engine.verify_bundle(bundle) == []
    # The period can be drawn again; the abandoned draw is kept, and its units are eligible again.
    again = ceremony(db, sup, plan, witness="271828")
    assert again.id != draw.id and {t["unit_id"] for t in again.result} == {u.public_id for u in units}
    assert db.session.get(Draw, draw.id).status == DrawStatus.ABANDONED
    with pytest.raises(services.DrawError):
        services.abandon(sup, services.publish(sup, again), "太晚了")


def test_replace_needs_a_reason_and_the_replaced_inspector_loses_access(db, brigade):
    org, item, sup = brigade
    make_unit(org)
    people = {}
    for _ in range(4):
        user = make_user(org, Role.INSPECTOR)
        people[inspector(org, user=user).id] = user
    outsider = make_user(org, Role.INSPECTOR)
    inspector(org, user=outsider, cert_valid_until=dt.date(YEAR - 1, 1, 1))
    plan = special_plan(sup, org, item, {"general": 1})
    draw = ceremony(db, sup, plan)
    [task] = draw.tasks
    leaving = next(a for a in task.active_assignments if a.slot == 1)
    leaving_user = people[leaving.inspector_id]
    assert access.can_view_task(leaving_user, task)
    assert not access.can_view_task(outsider, task)

    with pytest.raises(services.DrawError, match="递补抽取必须填写原因"):
        services.replace(sup, draw, task, 1, "  ")
    db.session.rollback()
    rep = services.replace(sup, draw, task, 1, "突发疾病住院")
    db.session.commit()
    db.session.refresh(task)
    newcomer = next(a for a in task.active_assignments if a.slot == 1)
    assert newcomer.inspector_id == rep.in_inspector_id != leaving.inspector_id
    assert rep.round == 1 and rep.reason == "突发疾病住院"
    assert not access.can_view_task(leaving_user, task)
    assert access.can_view_task(people[newcomer.inspector_id], task)
    assert access.can_view_task(sup, task)
    lead_user = people[next(a for a in task.active_assignments if a.slot == 0).inspector_id]
    assert access.can_view_task(lead_user, task)

    # A second round never brings back anyone who was already on the task.
    rep2 = services.replace(sup, draw, task, 1, "临时借调")
    db.session.commit()
    lead_id = next(a.inspector_id for a in task.assignments if a.slot == 0)
    assert rep2.round == 2 and rep2.in_inspector_id not in {leaving.inspector_id, rep.in_inspector_id, lead_id}
    with pytest.raises(services.DrawError, match="没有可递补的人员"):
        services.replace(sup, draw, task, 1, "又无法参加")  # four inspectors: nobody left
    db.session.rollback()

    services.publish(sup, draw)
    db.session.commit()
    bundle = services.bundle(draw)
    assert [(r["round"], r["reason"]) for r in bundle["replacements"]] == [(1, "突发疾病住院"), (2, "临时借调")]
    assert engine.verify_bundle(bundle) == []
    assert access.can_view_task(outsider, task)  # public now


def test_every_step_is_an_audit_event(db, brigade):
    org, item, sup = brigade
    make_unit(org)
    make_unit(org)
    for _ in range(4):
        inspector(org)
    plan = special_plan(sup, org, item, {"general": 1})
    draw = ceremony(db, sup, plan)
    services.replace(sup, draw, draw.tasks[0], 1, "出差")
    services.publish(sup, draw)
    db.session.commit()
    other = services.commit(
        sup, special_plan(sup, org, item, {"general": 1}, name="节日专项"), PERIOD, early_reason=EARLY
    )
    services.abandon(sup, other, "计划有误")
    db.session.commit()

    events = (
        db.session.execute(select(AuditEvent).where(~AuditEvent.action.startswith("calendar.")).order_by(AuditEvent.id))
        .scalars()
        .all()
    )  # (the calendar years the fixture confirmed are not the ceremony's)
    steps = [(e.action, e.subject_id) for e in events if e.subject_type == "draw"]
    assert steps == [
        ("draw.committed", str(draw.id)),
        ("draw.witness_added", str(draw.id)),
        ("draw.drawn", str(draw.id)),
        ("draw.replaced", str(draw.id)),
        ("draw.published", str(draw.id)),
        ("draw.committed", str(other.id)),
        ("draw.abandoned", str(other.id)),
    ]
    assert all(e.actor_id == sup.id for e in events)
    by_action = {e.action: e for e in events if e.subject_id == str(draw.id)}
    assert by_action["draw.committed"].payload["commitment"] == draw.commitment
    assert by_action["draw.witness_added"].payload["value"] == "314159"
    assert by_action["draw.replaced"].reason == "出差"
    assert next(e for e in events if e.action == "draw.abandoned").reason == "计划有误"
    assert sum(e.action == "plan.created" for e in events) == 2
    assert audit.verify() == []


def test_next_draw_due_is_the_last_two_working_days(db, brigade):
    org, item, sup = brigade
    make_unit(org)
    for _ in range(3):
        inspector(org, cert_valid_until=dt.date(2027, 12, 31))
    services.create_plan(sup, org=org, item=item, year=2026, targets={"general": 100})
    # February 2026: Saturday the 28th is a working day (调休 after the Spring Festival).
    due = services.next_draw_due(org.id, today=dt.date(2026, 2, 20))
    assert (due.period, due.window, due.state) == ("2026-03", [dt.date(2026, 2, 27), dt.date(2026, 2, 28)], "upcoming")
    assert (due.plans_done, due.plans_total) == (0, 1)
    assert services.next_draw_due(org.id, today=dt.date(2026, 2, 27)).state == "due"
    assert services.next_draw_due(org.id, today=dt.date(2026, 3, 2)).period == "2026-04"

    nov = services.next_draw_due(org.id, today=dt.date(2026, 11, 26))
    assert (nov.period, nov.window, nov.state) == (
        "2026-12",
        [dt.date(2026, 11, 27), dt.date(2026, 11, 30)],
        "upcoming",
    )
    # An administrator's calendar override (e.g. a local holiday) moves the window.
    db.session.add(CalendarOverride(day=dt.date(2026, 11, 30), is_workday=False, note="测试"))
    db.session.flush()
    nov = services.next_draw_due(org.id, today=dt.date(2026, 11, 26))
    assert nov.window == [dt.date(2026, 11, 26), dt.date(2026, 11, 27)] and nov.state == "due"

    plan = db.session.execute(select(services.Plan)).scalar_one()
    ceremony(db, sup, plan, period="2026-12", today=dt.date(2026, 11, 26))
    assert services.next_draw_due(org.id, today=dt.date(2026, 11, 27)).state == "done"
    # No draw for January 2027 plan year: nothing to be done there, and a 大队 with no plan is not "done".
    other = make_org()
    assert services.next_draw_due(other.id, today=dt.date(2026, 11, 27)).plans_total == 0


def test_cross_region_draw_for_several_brigades(db):
    zhidui = make_org(code="zd", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    d1 = make_org(code="d1", parent=zhidui)
    d2 = make_org(code="d2", parent=zhidui)
    d3 = make_org(code="d3", parent=zhidui)
    item = make_item(zhidui, code="fire-duty")
    sup = make_user(zhidui, Role.SUPERVISOR)
    local_sup = make_user(d1, Role.SUPERVISOR)
    units = {d: [make_unit(d) for _ in range(3)] for d in (d1, d2, d3)}
    people = {d: {inspector(d).public_id for _ in range(2)} for d in (d1, d2)}
    plan = services.create_plan(
        sup,
        org=zhidui,
        item=item,
        year=YEAR,
        kind=PlanKind.SPECIAL,
        monthly_quotas={"general": 6},
        targets={},
        unit_org_ids=[d1.id, d2.id],
        inspector_org_ids=[d1.id, d2.id],
    )
    assert set(services.default_unit_orgs(zhidui)) == {d1.id, d2.id, d3.id}  # by default: every 大队 below
    draw = ceremony(db, sup, plan)
    assert draw.org_id == zhidui.id
    pool_inspectors = {i["id"] for i in draw.pool["inspectors"]}
    assert pool_inspectors == people[d1] | people[d2]
    assert {u["id"] for u in draw.pool["units"]} == {u.public_id for d in (d1, d2) for u in units[d]}
    tasks = db.session.execute(select(Task).where(Task.draw_id == draw.id)).scalars().all()
    assert sorted(t.org_id for t in tasks) == sorted([d1.id] * 3 + [d2.id] * 3)  # each task belongs to its 大队
    assert access.can_manage_draws(sup, draw.org_id)
    assert not access.can_manage_draws(local_sup, draw.org_id)  # the 支队's draw, not the 大队's


# ------------------------------------------------------------------------------------ suijian-draw/2


def v2_world(db, brigade, units: int = 4, inspectors: int = 6):
    org, item, sup = brigade
    for i in range(units):
        make_unit(org, f"二版测试单位{i}")
    people = [inspector(org, name=f"检查员{i}") for i in range(inspectors)]
    plan = special_plan(sup, org, item, {"general": units})
    db.session.commit()
    return org, item, sup, plan, people


def test_the_whole_v2_ceremony_to_closing_verifies_with_the_engine_and_alone(db, brigade, tmp_path):
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    _org, _item, sup, plan, _people = v2_world(db, brigade)
    draw = ceremony(db, sup, plan)
    assert draw.spec == engine.SPEC == "suijian-draw/2"
    task = draw.tasks[0]
    rep = services.replace(sup, draw, task, 1, "病假，无法参加检查")
    db.session.commit()
    services.publish(sup, draw)
    db.session.commit()
    published = services.bundle(draw)
    assert published["draw"]["status"] == "published" and published["replacement_secret"] is None
    assert engine.verify_bundle(published) == []
    with pytest.raises(services.DrawError, match="未完成"):
        services.close(sup, draw)  # a task is still planned
    for t in draw.tasks:
        t.status = TaskStatus.SUBMITTED
    db.session.flush()
    services.close(sup, draw)
    db.session.commit()
    bundle = services.bundle(draw)
    assert bundle["draw"]["status"] == "closed" and bundle["replacement_secret"] == draw.replacement_secret
    assert bundle["rseed"] == engine.replacement_seed(draw.seed, draw.replacement_secret)
    assert [e["type"] for e in bundle["log"]] == ["commit", "witness", "draw", "replace", "publish", "close"]
    [r] = bundle["replacements"]
    assert (r["seq"], r["unit_id"], r["slot"], r["in"]) == (1, task.unit.public_id, 1, rep.in_inspector.public_id)
    assert bundle["final"][0]["assignments"][1]["inspector_id"] == rep.in_inspector.public_id
    assert bundle["log_head"] == services.current_head(draw)
    assert engine.verify_bundle(bundle) == []
    # python3 engine.py bundle.json in an empty folder, nothing else there
    shutil.copy(Path(engine.__file__), tmp_path / "engine.py")
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-I", "engine.py", "bundle.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout + run.stderr
    assert bundle["log_head"] in run.stdout
    # no 递补 after closing
    with pytest.raises(services.DrawError, match="已结束"):
        services.replace(sup, draw, draw.tasks[1], 0, "出差")
    # deleting the replacement from the bundle fails verification
    forged = json.loads(json.dumps(bundle))
    forged["replacements"] = []
    assert engine.verify_bundle(forged) != []


def test_a_v2_replacement_records_who_was_excluded_now_and_why(db, brigade):
    _org, _item, sup, plan, people = v2_world(db, brigade, units=1, inspectors=6)
    draw = ceremony(db, sup, plan)
    task = draw.tasks[0]
    on_task = {a.inspector_id for a in task.assignments}
    away = next(p for p in people if p.id not in on_task)
    frozen = next(p for p in people if p.id not in on_task and p is not away)
    db.session.add(
        InspectorUnavailability(
            inspector_id=away.id, start_date=task.planned_date, end_date=task.planned_date, reason="年假"
        )
    )
    frozen.status = InspectorStatus.FROZEN
    db.session.flush()
    services.replace(sup, draw, task, 1, "公务冲突")
    db.session.commit()
    [r] = services.bundle(draw)["replacements"]
    reasons = {e["id"]: e["reason"] for e in r["excluded_now"]}
    assert reasons.get(away.public_id) == "leave" and reasons.get(frozen.public_id) == "frozen"
    assert away.public_id not in r["candidates"] and frozen.public_id not in r["candidates"]


def test_secrets_are_absent_before_their_time_from_bundle_and_audit(db, brigade):
    import json

    org, _item, sup, plan, _people = v2_world(db, brigade)
    draw = ceremony(db, sup, plan)
    services.replace(sup, draw, draw.tasks[0], 1, "病假")
    db.session.commit()
    rseed = engine.replacement_seed(draw.seed, draw.replacement_secret)

    def visible() -> str:
        events = db.session.execute(select(AuditEvent).where(AuditEvent.org_id == org.id)).scalars()
        audit_text = " ".join(json.dumps(e.data, ensure_ascii=False) + (e.reason or "") for e in events)
        return json.dumps(services.bundle(draw), ensure_ascii=False) + audit_text

    before = visible()
    for secret in (draw.seed, draw.server_secret, draw.replacement_secret, rseed):
        assert secret not in before
    services.publish(sup, draw)
    db.session.commit()
    after = visible()
    assert draw.seed in after and draw.server_secret in after
    assert draw.replacement_secret not in after and rseed not in after


def test_the_daily_job_closes_after_the_month_after_the_period(db, brigade):
    from webapp.worker import close_draws

    _org, _item, sup, plan, _people = v2_world(db, brigade)
    draw = ceremony(db, sup, plan)
    services.publish(sup, draw)
    db.session.commit()
    assert services.close_due_date(PERIOD) == dt.date(YEAR, 11, 1)
    assert services.close_due(dt.date(YEAR, 10, 31)) == []
    assert draw.closed_at is None
    assert [d.id for d in services.close_due(dt.date(YEAR, 11, 1))] == [draw.id]
    db.session.commit()
    assert draw.is_closed and services.bundle(draw)["draw"]["status"] == "closed"
    assert close_draws.call_local() == 0  # the scheduled task: nothing left to close; idempotent


def test_abandoning_publishes_and_closes_at_once(db, brigade):
    _org, _item, sup, plan, _people = v2_world(db, brigade)
    draw = services.commit(sup, plan, PERIOD, early_reason=EARLY)
    db.session.commit()
    services.abandon(sup, draw, "名录数据有误")
    db.session.commit()
    bundle = services.bundle(draw)
    assert bundle["draw"]["status"] == "closed" and bundle["draw"]["abandoned_reason"] == "名录数据有误"
    assert bundle["result"] == [] and bundle["replacement_secret"] == draw.replacement_secret
    assert [e["type"] for e in bundle["log"]] == ["commit", "abandon", "publish", "close"]
    assert engine.verify_bundle(bundle) == []


def test_committing_before_the_due_window_needs_a_reason(db, brigade):
    org, item, sup, plan, _people = v2_world(db, brigade)
    window = services.due_window(PERIOD)
    assert window and window[-1] < dt.date(YEAR, 9, 1) and window[0].month == 8
    with pytest.raises(services.DrawError, match="提前抽取"):
        services.commit(sup, plan, PERIOD, today=dt.date(YEAR, 8, 1))
    on_time = services.commit(sup, plan, PERIOD, today=window[0])
    db.session.commit()
    assert on_time.early_reason is None
    data = on_time.events[0].data
    assert data == {
        "org": org.code,
        "item": item.code,
        "period": PERIOD,
        "pool_hash": on_time.pool_hash,
        "commitment": on_time.commitment,
        "replacement_commitment": on_time.replacement_commitment,
    }


def test_a_v1_draw_committed_before_version_2_still_draws_replaces_publishes_and_verifies(db, brigade):
    """A draw committed under suijian-draw/1 (before the migration) is finished under its own rules."""
    import json

    from webapp.db import utcnow
    from webapp.public import queries as public_queries

    org, item, sup, plan, _people = v2_world(db, brigade)
    elig = eligibility(plan, PERIOD)
    pool = elig.pool()  # the /1 pool: no "excluded" inside
    secret = engine.new_secret()
    draw = Draw(
        plan_id=plan.id,
        org_id=org.id,
        item_version_id=item.current.id,
        period=PERIOD,
        spec=engine.SPEC_V1,
        status=DrawStatus.COMMITTED,
        pool=pool,
        pool_hash=engine.pool_hash(pool),
        commitment=engine.commitment(secret),
        server_secret=secret.hex(),
        excluded=elig.excluded,
        inspector_excluded=elig.inspector_excluded,
        committed_at=utcnow(),
    )
    db.session.add(draw)
    db.session.commit()
    services.add_witness(sup, draw, "王监督", "廉政监督员", "314159")
    services.perform(sup, draw)
    db.session.commit()
    assert draw.events == [] and services.current_head(draw) is None  # no log for /1
    services.replace(sup, draw, draw.tasks[0], 1, "病假")
    services.publish(sup, draw)
    db.session.commit()
    bundle = json.loads(json.dumps(services.bundle(draw), ensure_ascii=False))
    assert bundle["spec"] == "suijian-draw/1" and "log" not in bundle and "replacement_secret" not in bundle
    assert bundle["seed"] == draw.seed and len(bundle["replacements"]) == 1
    assert engine.verify_bundle(bundle) == []
    with pytest.raises(services.DrawError, match="suijian-draw/1"):
        services.close(sup, draw)
    assert draw not in services.close_due(dt.date(YEAR + 1, 1, 1))
    assert draw.public_id not in [r.public_id for r in public_queries.register().rows]


def test_a_period_of_an_unknown_calendar_year_is_not_committed(db, brigade):
    """A period is frozen only when its working days come from a known year (DRAW_SPEC section 4)."""
    from webapp.admin import services as admin_services

    org, item, sup = brigade
    make_unit(org, "未知年份测试单位")
    for i in range(4):
        inspector(org, name=f"检查员{i}", cert_valid_until=dt.date(2100, 1, 1))
    unknown = 2099  # neither the holiday library nor an administrator knows it
    plan = services.create_plan(
        sup, org=org, item=item, year=unknown, kind=PlanKind.SPECIAL, monthly_quotas={"general": 1}, targets={}
    )
    db.session.commit()
    with pytest.raises(services.DrawError, match="2099年的节假日安排尚未录入或确认"):
        services.commit(sup, plan, f"{unknown}-03", early_reason=EARLY)
    db.session.rollback()
    assert db.session.execute(select(Draw.id)).first() is None
    admin_services.confirm_year(None, unknown, "国务院办公厅尚未公布该年的放假安排")
    draw = services.commit(sup, plan, f"{unknown}-03", early_reason=EARLY)
    assert draw.period == "2099-03"
