"""The draw's population and honest counts: an item draws only units of its target types, every shortfall says why
and from which month, the year's quotas leave out units that cannot be drawn before the plan ends, and the plan
and pool pages show quota, drawn and completed apart, per item."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale

from tests.factories import make_inspector, make_item, make_org, make_unit, make_user
from tests.helpers import body
from webapp.auth.models import Role
from webapp.draw import engine, queries, services
from webapp.draw.models import Draw, DrawStatus, PlanKind
from webapp.draw.plans import drawable_from, eligibility
from webapp.extensions import db as _db
from webapp.registry.models import ObjectType, UnitClass
from webapp.tasks.models import Task, TaskKind, TaskStatus

YEAR = 2030  # a future year: every weekday is a working day
PERIOD = "2030-09"
VALID = dt.date(YEAR + 1, 12, 31)
SEED = "ab" * 32


def task_for(unit, item, day: dt.date, status=TaskStatus.SUBMITTED, kind=TaskKind.ROUTINE) -> Task:
    task = Task(
        org_id=unit.org_id, unit_id=unit.id, item_version_id=item.current.id, kind=kind, planned_date=day, status=status
    )
    _db.session.add(task)
    _db.session.flush()
    return task


def tech_item(org, code: str = "fire-service"):
    item = make_item(org, code=code, name="对社会消防技术服务机构开展的检测、维保服务项目规范性情况的抽查")
    item.current.target_types = ObjectType.TECH_SERVICE.value
    _db.session.flush()
    return item


def special_plan(sup, org, item, quotas: dict, **kw):
    return services.create_plan(
        sup, org=org, item=item, year=YEAR, kind=PlanKind.SPECIAL, monthly_quotas=quotas, targets={}, **kw
    )


@pytest.fixture(autouse=True)
def chinese(db):
    with force_locale("zh_Hans"):
        yield


@pytest.fixture
def brigade(db):
    org = make_org(code="d1", name="偃师区消防救援大队")
    sup = make_user(org, Role.SUPERVISOR)
    for _ in range(4):
        make_inspector(org, cert_valid_until=VALID)
    return org, sup


@pytest.fixture
def town(brigade):
    """Restaurants, a barber and a clinic (社会单位) and three 消防技术服务机构 of one 大队."""
    org, _sup = brigade
    social = [make_unit(org, name) for name in ("老街饭店", "金剪理发店", "仁和诊所", "川香小厨")]
    firms = [
        make_unit(org, name, object_type=ObjectType.TECH_SERVICE)
        for name in (
            "洛阳安泰消防技术服务有限公司",
            "偃师区恒安消防设施检测有限公司",
            "洛阳鑫源消防设施维护保养有限公司",
        )
    ]
    return social, firms


# ------------------------------------------------------------------------------------------ the frame


def test_a_technical_service_item_never_draws_restaurants(brigade, town):
    org, sup = brigade
    social, firms = town
    plan = special_plan(sup, org, tech_item(org), {"general": 10})
    elig = eligibility(plan, PERIOD)
    frame = {u["id"] for u in elig.units}
    assert frame == {f.public_id for f in firms}
    # the others are not in the frame at all, not even as exclusions; the page says how many were left out
    assert not {e["unit_id"] for e in elig.excluded} & {u.public_id for u in social}
    assert not set(elig.unit_names) & {u.public_id for u in social}
    assert elig.other_types == len(social)
    assert elig.target_types == [ObjectType.TECH_SERVICE]
    drawn = {t["unit_id"] for t in engine.draw(elig.pool(), SEED)["result"]}
    assert drawn == {f.public_id for f in firms}


def test_the_frame_of_a_social_unit_item_never_contains_technical_service_firms(brigade, town):
    org, sup = brigade
    social, firms = town
    plan = special_plan(sup, org, make_item(org, code="fire-duty"), {"general": 10})
    elig = eligibility(plan, PERIOD)
    assert {u["id"] for u in elig.units} == {u.public_id for u in social}
    assert not {e["unit_id"] for e in elig.excluded} & {f.public_id for f in firms}
    assert elig.other_types == len(firms)
    assert not {t["unit_id"] for t in engine.draw(elig.pool(), SEED)["result"]} & {f.public_id for f in firms}


def test_an_item_may_target_several_types(brigade, town):
    org, sup = brigade
    social, firms = town
    item = make_item(org, code="both")
    item.current.target_types = "social_unit,tech_service"
    plan = special_plan(sup, org, item, {"general": 10})
    elig = eligibility(plan, PERIOD)
    assert len(elig.units) == len(social) + len(firms) and elig.other_types == 0


def test_the_pool_page_names_the_target_types_and_counts_the_units_left_out(app, brigade, town, client, login_as):
    org, sup = brigade
    plan = special_plan(sup, org, tech_item(org), {"general": 2})
    _db.session.commit()
    login_as(sup)
    html = body(client.get(f"/draw/plans/{plan.public_id}/pool?period={PERIOD}"))
    assert "消防技术服务机构" in html
    assert "另有4家其他类型的单位不属于本事项的检查对象，不进入抽取名录。" in html
    assert "老街饭店" not in html


# ---------------------------------------------------------------------------------- the six-month gap


@pytest.mark.parametrize(
    ("last", "period"),
    [
        (dt.date(2026, 9, 1), "2027-03"),  # on the first: six months later to the day
        (dt.date(2026, 9, 15), "2027-04"),
        (dt.date(2026, 8, 31), "2027-03"),
        (dt.date(2026, 12, 31), "2027-07"),
        (dt.date(2027, 7, 2), "2028-02"),
    ],
)
def test_drawable_from_follows_the_six_month_rule_of_eligibility(last, period):
    assert drawable_from(last) == period


def test_drawable_from_agrees_with_eligibility(brigade):
    org, sup = brigade
    item = make_item(org, code="fire-duty")
    unit = make_unit(org)
    task_for(unit, item, dt.date(YEAR - 1, 12, 31))
    plan = special_plan(sup, org, item, {"general": 1})
    first_free = drawable_from(dt.date(YEAR - 1, 12, 31))
    assert first_free == f"{YEAR}-07"
    assert [e["reason"] for e in eligibility(plan, f"{YEAR}-06").excluded] == ["less_than_6_months"]
    assert [u["id"] for u in eligibility(plan, first_free).units] == [unit.public_id]


def test_a_stratum_with_every_unit_inside_its_gap_says_why_and_from_when(app, brigade, client, login_as):
    org, sup = brigade
    item = make_item(org, code="fire-duty")
    crowded = [make_unit(org, unit_class=UnitClass.KEY, crowded=True) for _ in range(3)]
    task_for(crowded[0], item, dt.date(YEAR, 5, 20))
    task_for(crowded[1], item, dt.date(YEAR, 6, 1))
    task_for(crowded[2], item, dt.date(YEAR, 7, 10))
    plan = special_plan(sup, org, item, {"key_crowded": 4})
    fig = eligibility(plan, PERIOD).strata["key_crowded"]
    assert (fig.total, fig.eligible, fig.quota, fig.to_draw, fig.shortfall) == (3, 0, 4, 0, 4)
    assert fig.gap_from == f"{YEAR}-12"  # the unit inspected on 20 May is the first drawable again
    assert fig.note() == f"3家均在距上次检查不满六个月内，最早{YEAR}年12月可抽取"

    _db.session.commit()
    login_as(sup)
    html = body(client.get(f"/draw/plans/{plan.public_id}/pool?period={PERIOD}"))
    assert f"3家均在距上次检查不满六个月内，最早{YEAR}年12月可抽取" in html


def test_a_shortfall_lists_every_reason_with_the_month(brigade):
    org, sup = brigade
    item = make_item(org, code="fire-duty")
    free = make_unit(org)
    gap = make_unit(org)
    task_for(gap, item, dt.date(YEAR, 8, 3))
    twice = make_unit(org)
    task_for(twice, item, dt.date(YEAR, 1, 5))
    task_for(twice, item, dt.date(YEAR, 2, 5))
    plan = special_plan(sup, org, item, {"general": 3})
    fig = eligibility(plan, PERIOD).strata["general"]
    assert (fig.quota, fig.eligible, fig.to_draw) == (3, 1, 1)
    assert fig.note() == (
        f"配额3家，可抽取1家：1家距上次检查不满六个月，最早{YEAR + 1}年3月可抽取；1家本年度已抽查2次，下一年度起可抽取"
    )
    assert free.public_id in {u["id"] for u in eligibility(plan, PERIOD).units}


def test_no_note_when_the_quota_is_met(brigade):
    org, sup = brigade
    item = make_item(org, code="fire-duty")
    for _ in range(3):
        make_unit(org)
    gap = make_unit(org)
    task_for(gap, item, dt.date(YEAR, 8, 3))
    plan = special_plan(sup, org, item, {"general": 2})
    assert eligibility(plan, PERIOD).strata["general"].note() is None


# ------------------------------------------------------------------------- the year's quotas and the gap


def test_the_years_quotas_leave_out_units_that_cannot_be_drawn_before_the_plan_ends(brigade):
    org, sup = brigade
    duty = make_item(org, code="fire-duty")
    product = make_item(org, code="fire-product", name="对使用领域的消防产品质量监督抽查")
    crowded = [make_unit(org, unit_class=UnitClass.KEY, crowded=True) for _ in range(8)]
    # two were just checked for another item: inside their gap until after December, they cannot be covered
    task_for(crowded[0], product, dt.date(YEAR, 8, 10))
    task_for(crowded[1], product, dt.date(YEAR, 9, 2), status=TaskStatus.PLANNED)
    plan = services.create_plan(sup, org=org, item=duty, year=YEAR)
    elig = eligibility(plan, "2030-10")  # three months left
    fig = elig.strata["key_crowded"]
    assert (fig.total, fig.done_this_year, fig.out_of_year, fig.eligible) == (8, 0, 2, 6)
    assert elig.quotas["key_crowded"] == 2  # ceil(6 / 3), not ceil(8 / 3)

    progress = queries.plan_progress(plan, dt.date(YEAR, 9, 28))
    row = next(r for r in progress.rows if r.stratum == "key_crowded")
    assert (row.out_of_year, row.monthly_quota) == (2, 2)  # the plan page agrees with the pool


def test_coverage_is_counted_per_item(brigade):
    org, sup = brigade
    duty = make_item(org, code="fire-duty")
    product = make_item(org, code="fire-product", name="对使用领域的消防产品质量监督抽查")
    crowded = [make_unit(org, unit_class=UnitClass.KEY, crowded=True) for _ in range(4)]
    task_for(crowded[0], product, dt.date(YEAR, 1, 10))  # another item's inspection does not cover this item
    task_for(crowded[1], duty, dt.date(YEAR, 1, 10))
    plan = services.create_plan(sup, org=org, item=duty, year=YEAR)
    elig = eligibility(plan, PERIOD)
    assert elig.strata["key_crowded"].done_this_year == 1
    reasons = {e["unit_id"]: e["reason"] for e in elig.excluded}
    assert reasons == {crowded[1].public_id: "done_this_year"}
    assert crowded[0].public_id in {u["id"] for u in elig.units}  # last inspected in January: drawable again


# ------------------------------------------------------------------------ honest counts on the plan page


def test_plan_progress_counts_completed_and_pending_for_the_plans_item_only(brigade):
    org, sup = brigade
    duty = make_item(org, code="fire-duty")
    product = make_item(org, code="fire-product", name="对使用领域的消防产品质量监督抽查")
    units = [make_unit(org, unit_class=UnitClass.KEY, crowded=True) for _ in range(5)]
    task_for(units[0], duty, dt.date(YEAR, 2, 3))  # completed
    task_for(units[1], duty, dt.date(YEAR, 3, 3), status=TaskStatus.PLANNED)  # drawn, pending
    task_for(units[2], duty, dt.date(YEAR, 3, 4), status=TaskStatus.IN_PROGRESS)  # drawn, pending
    task_for(units[3], product, dt.date(YEAR, 3, 4))  # another item: not counted
    task_for(units[4], duty, dt.date(YEAR, 3, 5), status=TaskStatus.CANCELLED)  # cancelled: not counted
    task_for(units[4], duty, dt.date(YEAR, 3, 6), kind=TaskKind.COMPLAINT)  # not drawn: not counted
    firm = make_unit(org, unit_class=UnitClass.KEY, crowded=True, object_type=ObjectType.TECH_SERVICE)
    task_for(firm, duty, dt.date(YEAR, 2, 3))  # not of the item's type: not in any count
    plan = services.create_plan(sup, org=org, item=duty, year=YEAR)
    progress = queries.plan_progress(plan, dt.date(YEAR, 3, 20))
    row = next(r for r in progress.rows if r.stratum == "key_crowded")
    assert (row.total, row.annual_target, row.completed, row.pending, row.drawn, row.remaining) == (5, 5, 1, 2, 3, 2)
    assert row.coverage_pct == 20


def test_the_plan_page_shows_quota_drawn_and_completed_apart(app, brigade, client, login_as):
    org, sup = brigade
    item = make_item(org, code="fire-duty")
    units = [make_unit(org) for _ in range(3)]
    plan = special_plan(sup, org, item, {"general": 5})
    elig = eligibility(plan, PERIOD)
    result = engine.draw(elig.pool(), SEED)["result"]
    assert len(result) == 3  # fewer eligible units than the quota
    draw = Draw(
        plan_id=plan.id,
        org_id=org.id,
        item_version_id=item.current.id,
        period=PERIOD,
        status=DrawStatus.DRAWN,
        pool=elig.pool(),
        pool_hash=engine.pool_hash(elig.pool()),
        commitment="0" * 64,
        server_secret="0" * 64,
        seed=SEED,
        result=result,
        committed_at=dt.datetime(YEAR, 8, 28, tzinfo=dt.UTC),
    )
    _db.session.add(draw)
    _db.session.flush()
    by_id = {u.public_id: u for u in units}
    for i, t in enumerate(result):
        task_for(
            by_id[t["unit_id"]],
            item,
            dt.date.fromisoformat(t["planned_date"]),
            status=TaskStatus.SUBMITTED if i == 0 else TaskStatus.PLANNED,
        ).draw_id = draw.id
    _db.session.commit()

    progress = queries.plan_progress(plan, dt.date(YEAR, 8, 28))
    month = next(m for m in progress.months if m.period == PERIOD)
    assert (month.quota, month.drawn, month.completed) == (5, 3, 1)
    summary = queries.pool_summary(draw)
    assert (summary["quotas"], summary["drawn"], summary["drawn_total"]) == ({"general": 5}, {"general": 3}, 3)

    login_as(sup)
    html = body(client.get(f"/draw/plans/{plan.public_id}"))
    assert "配额5 · 实际抽取3 · 已完成检查1" in html
    assert "已完成" in html and "待检查" in html
