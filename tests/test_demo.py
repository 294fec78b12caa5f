"""`flask demo`: a newcomer gets a realistic 支队 with three 大队, accounts to log in with, inspectors and units."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import make_org
from tests.helpers import login, truncate_all
from webapp import audit, calendar, demo
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation, OrgKind, Role, User
from webapp.demo.cli import demo_command
from webapp.registry.models import (
    Inspector,
    InspectorConflict,
    InspectorStatus,
    InspectorUnavailability,
    Unit,
    UnitClass,
    UnitStatus,
)
from webapp.registry.validation import MOBILE_RE, phone_error, uscc_error

UNITS = 300  # small, to keep the suite fast; the shares are the same as the 3 000-unit default


def run_demo(runner, *args: str):
    # webapp/cli.py wires the command as `flask demo`; invoking the command object keeps this test independent
    return runner.invoke(demo_command, ["--units", str(UNITS), *args])


@pytest.fixture
def loaded(runner, db):
    result = run_demo(runner)
    assert result.exit_code == 0, result.output
    return result


def org(db, code: str) -> Organisation:
    return db.session.execute(select(Organisation).where(Organisation.code == code)).scalar_one()


def units(db, *where) -> list[Unit]:
    return list(db.session.execute(select(Unit).where(*where)).scalars())


def test_demo_builds_the_organisation_tree(loaded, db):
    zongdui, zhidui = org(db, "demo-zongdui"), org(db, "demo-zhidui")
    assert (zongdui.name, zongdui.kind, zongdui.parent_id) == ("河南省消防救援总队", OrgKind.ZONGDUI, None)
    assert (zhidui.name, zhidui.kind, zhidui.parent_id) == ("洛阳市消防救援支队", OrgKind.ZHIDUI, zongdui.id)
    daduis = {o.code: o for o in zhidui.children}
    assert {c: o.name for c, o in daduis.items()} == {
        "demo-1": "洛阳市偃师区消防救援大队",
        "demo-2": "洛阳市孟津区消防救援大队",
        "demo-3": "伊川县消防救援大队",
    }
    assert all(o.kind == OrgKind.DADUI and o.short_name for o in daduis.values())
    market = org(db, "demo-market")
    assert (market.name, market.kind, market.dept) == ("洛阳市偃师区市场监督管理局", OrgKind.DEPARTMENT, "market")
    assert market.short_name


def test_demo_units_are_spread_over_the_three_daduis_and_all_classes(loaded, db):
    per_org = dict(
        db.session.execute(
            select(Organisation.code, func.count(Unit.id))
            .join(Unit, Unit.org_id == Organisation.id)
            .group_by(Organisation.code)
        ).all()
    )
    assert per_org == {"demo-1": 120, "demo-2": 105, "demo-3": 75}

    all_units = units(db)
    by_class = Counter(u.unit_class for u in all_units)
    assert 0.06 <= by_class[UnitClass.KEY] / UNITS <= 0.10
    assert 0.50 <= by_class[UnitClass.GENERAL] / UNITS <= 0.58
    assert 0.27 <= by_class[UnitClass.NINE_SMALL] / UNITS <= 0.32
    assert 0.05 <= by_class[UnitClass.OTHER] / UNITS <= 0.08
    crowded = [u for u in all_units if u.crowded]
    assert all(u.unit_class == UnitClass.KEY for u in crowded)  # 人员密集场所 are key units
    assert abs(len(crowded) - by_class[UnitClass.KEY] / 2) <= 3  # about half of them
    # names fit the class: crowded places are hotels, malls, schools, hospitals, care homes …
    assert all(
        re.search(
            r"酒店|宾馆|广场|商贸城|百货|中学|学校|医院|保健院|KTV|会所|歌城|敬老院|颐养院|养老|影城|影院|幼儿园",
            u.name,
        )
        for u in crowded
    )

    # every district has its own towns/streets as regions and addresses in the district
    for u in all_units:
        district = {"demo-1": "偃师区", "demo-2": "孟津区", "demo-3": "伊川县"}[u.org.code]
        assert u.address is None or u.address.startswith("洛阳市" + district)
        assert u.region and u.region.endswith(("街道", "镇", "乡"))
    risks = Counter(u.risk_level.value for u in all_units)
    assert set(risks) == {"red", "yellow", "blue", "green"}
    assert risks["blue"] + risks["green"] > 0.7 * UNITS
    assert Counter(u.credit_level.value for u in all_units).most_common(1)[0][0] == "normal"
    assert any(u.complaint_count > 0 for u in all_units)
    located = [u for u in all_units if u.latitude is not None]
    assert located and all(34.2 < u.latitude < 35.0 and 112.2 < u.longitude < 113.0 for u in located)


def test_every_uscc_is_valid_and_unique_and_contacts_have_phone_numbers(loaded, db):
    all_units = units(db)
    codes = [u.uscc for u in all_units if u.uscc]
    assert len(codes) >= UNITS - 6
    assert all(uscc_error(c) is None for c in codes), [c for c in codes if uscc_error(c)]
    assert len(set(codes)) == len(codes)
    assert all(u.legal_rep and u.contact_name and u.contact_phone for u in all_units)
    assert all(phone_error(u.contact_phone) is None for u in all_units)
    mobiles = [u for u in all_units if MOBILE_RE.match(u.contact_phone)]
    assert len(mobiles) > 0.8 * UNITS


def test_generated_usccs_pass_an_independent_check(db):
    rng = random.Random(1)
    for type_code in ("91", "92", "93", "12", "11", "51", "52", "54"):
        for _ in range(300):
            code = demo.make_uscc(rng, type_code, "410307", new_style=rng.random() < 0.5)
            assert uscc_error(code) is None, code
            # the organisation code (positions 9-17) carries its own GB 11714 check character
            body, check = code[8:16], code[16]
            values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
            c9 = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            assert check == {10: "X", 11: "0"}.get(c9, str(c9))


def test_named_demo_accounts_exist_and_log_in_with_the_demo_password(loaded, app, db):
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    expected = {
        "admin": (Role.ADMIN, "demo-zhidui"),
        "supervisor": (Role.SUPERVISOR, "demo-1"),
        "supervisor2": (Role.SUPERVISOR, "demo-2"),
        "supervisor3": (Role.SUPERVISOR, "demo-3"),
        "market-supervisor": (Role.SUPERVISOR, "demo-market"),
        "inspector": (Role.INSPECTOR, "demo-1"),
    }
    for username, (role, code) in expected.items():
        assert (users[username].role, users[username].org.code) == (role, code), username

    me = db.session.execute(select(Inspector).where(Inspector.user_id == users["inspector"].id)).scalar_one()
    assert me.post == "专职消防监督员" and me.can_lead and me.status == InspectorStatus.ACTIVE
    assert me.cert_valid_on(calendar.today() + dt.timedelta(days=60))

    # every inspector has a login; every login but the five desk accounts is an inspector
    inspectors = list(db.session.execute(select(Inspector)).scalars())
    assert {i.user_id for i in inspectors} == {u.id for u in users.values() if u.role == Role.INSPECTOR}
    assert len(users) == len(inspectors) + 5
    assert {"insp-1-02", "insp-2-01", "insp-3-01", "insp-m-01"} <= set(users)

    for username in ("admin", "supervisor", "inspector", "insp-2-01", "market-supervisor"):
        client = app.test_client()
        login(client, username, "suijian-demo")
        assert client.get("/me").status_code == 200


def test_demo_prints_the_accounts_table(loaded):
    out = loaded.output
    for username in ("admin", "supervisor", "supervisor2", "supervisor3", "market-supervisor", "inspector"):
        assert re.search(rf"^{re.escape(username)}\s", out, re.M), username
    assert "洛阳市偃师区消防救援大队" in out
    assert out.count("suijian-demo") >= 6
    assert "insp-1-02" in out and "insp-m-01" in out


def test_make_run_again_prints_the_accounts_again(loaded, runner, db):
    """`make run` runs `flask demo --if-empty` every time: on the demo database it loads nothing but still
    prints the accounts (the README promises them)."""
    before = db.session.execute(select(func.count(Unit.id))).scalar()
    again = run_demo(runner, "--if-empty")
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    for username in ("admin", "supervisor", "inspector"):
        assert re.search(rf"^{re.escape(username)}\s", again.output, re.M), username
    assert "insp-1-02" in again.output and again.output.count("suijian-demo") >= 6
    assert db.session.execute(select(func.count(Unit.id))).scalar() == before


def test_inspectors_have_realistic_posts_certificates_leave_and_conflicts(loaded, db):
    inspectors = list(db.session.execute(select(Inspector)).scalars())
    assert len(inspectors) == 40
    assert Counter(i.org.code for i in inspectors) == {"demo-1": 12, "demo-2": 12, "demo-3": 10, "demo-market": 6}
    posts = Counter(i.post for i in inspectors)
    assert posts["专职消防监督员"] > posts["兼职消防监督员"] > 0 and posts["消防文员"] > 0
    assert posts["市场监管执法人员"] == 6
    for i in inspectors:
        if i.post == "专职消防监督员":
            assert (i.draw_weight, i.can_lead) == (150, True)
            assert "指挥" in i.rank
        elif i.post == "消防文员":
            assert (i.draw_weight, i.can_lead) == (50, False)
        elif i.post == "市场监管执法人员":
            assert "科员" in i.rank
        assert i.phone and MOBILE_RE.match(i.phone)
    assert all(i.specialties for i in inspectors if i.post != "消防文员")

    today = calendar.today()  # the demo's dates are local
    with_cert = [i for i in inspectors if i.cert_no]
    assert len({i.cert_no for i in with_cert}) == len(with_cert)
    assert all(re.fullmatch(r"豫\d{12}", i.cert_no) for i in with_cert)
    assert sum(i.cert_valid_until < today for i in with_cert) == 2  # expired
    assert sum(today <= i.cert_valid_until <= today + dt.timedelta(days=30) for i in with_cert) == 2
    no_cert = [i for i in inspectors if not i.cert_no]
    assert len(no_cert) == 2 and all(i.post == "消防文员" for i in no_cert)

    frozen = [i for i in inspectors if i.status == InspectorStatus.FROZEN]
    assert len(frozen) == 2 and all(i.status_reason for i in frozen)

    leave = list(db.session.execute(select(InspectorUnavailability)).scalars())
    next_month = (today.replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    assert len(leave) == 5
    for period in leave:
        assert (period.start_date.year, period.start_date.month) == (next_month.year, next_month.month)
        assert period.start_date <= period.end_date
        assert re.search(r"年休假|培训|借调|督查", period.reason)

    conflicts = list(db.session.execute(select(InspectorConflict)).scalars())
    assert len(conflicts) == 5
    assert all(c.reason and c.active and c.unit.org_id == c.inspector.org_id for c in conflicts)
    main_login = db.session.execute(select(User.id).where(User.username == "inspector")).scalar_one()
    assert any(c.inspector.user_id == main_login for c in conflicts)  # the main demo login has a 回避 to see


def test_zombie_closed_and_incomplete_units_give_the_quality_views_something_to_show(loaded, db):
    zombies = units(db, Unit.status == UnitStatus.ZOMBIE)
    closed = units(db, Unit.status == UnitStatus.CLOSED)
    assert len(zombies) == 9 and all(u.status_reason for u in zombies)
    assert len(closed) == 6 and all(u.status_reason for u in closed)
    missing = Counter(f for u in units(db) for f in u.missing_fields)
    assert set(missing) == {"address", "uscc", "safety_person", "unit_class"}
    assert sum(missing.values()) == 12


def test_demo_writes_one_summary_audit_event_and_the_chain_verifies(loaded, runner, db):
    events = list(db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())
    loaded_events = [e for e in events if e.action == "demo.loaded"]
    assert len(loaded_events) == 1
    data = loaded_events[0].payload
    assert (data["units"], data["inspectors"], data["units_by_org"]["demo-1"]) == (UNITS, 40, 120)
    # one summary; the rest are the items, the plan, the draw and the year the demo assumes
    assert len([e for e in events if not e.action.startswith(("item.", "plan.", "draw.", "calendar."))]) == 1
    assert audit.verify() == []
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_demo_items_belong_to_the_first_dadui(loaded, db):
    from webapp.catalog.models import Item

    items = list(db.session.execute(select(Item)).scalars())
    assert len(items) >= 3
    assert {i.org.code for i in items} == {"demo-1"}


def _snapshot(db) -> dict:
    def rows(model, *cols):
        return sorted(db.session.execute(select(*[getattr(model, c) for c in cols])).all())

    unit_cols = [
        c.name for c in Unit.__table__.columns if c.name not in ("id", "public_id", "created_at", "updated_at")
    ]
    insp_cols = [
        c.name for c in Inspector.__table__.columns if c.name not in ("id", "public_id", "created_at", "updated_at")
    ]
    return {
        "units": rows(Unit, *unit_cols),
        "inspectors": rows(Inspector, *insp_cols),
        "users": rows(User, "username", "display_name", "role", "org_id"),
        "leave": rows(InspectorUnavailability, "inspector_id", "start_date", "end_date", "reason"),
        "conflicts": rows(InspectorConflict, "inspector_id", "unit_id", "reason"),
    }


def test_the_same_seed_gives_the_same_data_and_another_seed_different_data(app, db):
    demo.load_demo(units=150, seed=7)
    first = _snapshot(db)
    db.session.remove()
    truncate_all(app)
    demo.load_demo(units=150, seed=7)
    assert _snapshot(db) == first
    db.session.remove()
    truncate_all(app)
    demo.load_demo(units=150, seed=8)
    other = _snapshot(db)
    assert other["units"] != first["units"] and other["users"] != first["users"]


def test_demo_refuses_a_database_that_already_has_organisations(runner, db):
    make_org(code="real-org")
    db.session.commit()
    result = run_demo(runner)
    assert result.exit_code == 1
    assert "already has organisations" in result.output
    assert db.session.execute(select(func.count(Unit.id))).scalar() == 0
    with pytest.raises(demo.DemoError):
        demo.load_demo(units=10)


def test_if_empty_does_nothing_on_a_database_with_data_and_loads_an_empty_one(runner, db):
    make_org(code="real-org")
    db.session.commit()
    result = run_demo(runner, "--if-empty")
    assert (result.exit_code, result.output) == (0, "")
    assert db.session.execute(select(func.count(Organisation.id))).scalar() == 1
    db.session.remove()
    truncate_all(runner.app)

    result = run_demo(runner, "--if-empty")
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(func.count(Unit.id))).scalar() == UNITS


def test_larger_runs_are_written_in_batches_with_progress(runner, db):
    seen = []
    summary = demo.load_demo(units=2500, inspectors=12, batch_size=1000, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert db.session.execute(select(func.count(Unit.id))).scalar() == 2500
    assert summary.inspectors == db.session.execute(select(func.count(Inspector.id))).scalar() == 12
    codes = [c for (c,) in db.session.execute(select(Unit.uscc)).all() if c]
    assert len(codes) == len(set(codes)) >= 2500 - 25


def test_demo_on_a_database_without_tables_says_to_upgrade_first(tmp_path):
    from webapp import create_app

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "new.db")})
    result = fresh.test_cli_runner().invoke(demo_command, ["--units", "10"])
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output
    with fresh.app_context():
        from webapp.extensions import db as fresh_db

        fresh_db.engine.dispose()


def test_demo_has_this_months_published_draw_that_verifies(loaded, db, client):
    from webapp.draw import engine, services
    from webapp.draw.models import Draw, DrawStatus

    draws = list(db.session.execute(select(Draw)).scalars())
    assert len(draws) == 1
    draw = draws[0]
    assert draw.status == DrawStatus.PUBLISHED and len(draw.witnesses) == 2 and draw.tasks
    assert f"/public/draws/{draw.public_id}" in loaded.output
    assert engine.verify_bundle(services.bundle(draw)) == []
    assert client.get(f"/public/draws/{draw.public_id}").status_code == 200


def test_demo_has_technical_service_firms_and_the_technical_service_item_draws_only_them(loaded, db):
    from tests.helpers import next_period
    from webapp.catalog.models import Item
    from webapp.draw import engine, services
    from webapp.draw.models import Draw
    from webapp.draw.plans import eligibility
    from webapp.registry.models import ObjectType

    firms = units(db, Unit.object_type == ObjectType.TECH_SERVICE)
    assert Counter(u.org.code for u in firms) == {"demo-1": 6, "demo-2": 2, "demo-3": 2}
    assert all("消防" in u.name and u.status == UnitStatus.ACTIVE and u.uscc.startswith("91") for u in firms)
    firm_ids = {u.public_id for u in firms}
    # this month's demo draw (对单位履行消防安全职责情况的日常监督抽查, 社会单位) never holds a firm
    (demo_draw,) = db.session.execute(select(Draw)).scalars()
    assert not {u["id"] for u in demo_draw.pool["units"]} & firm_ids

    item = db.session.execute(select(Item).where(Item.code == "fire-service")).scalar_one()
    supervisor = db.session.execute(select(User).where(User.username == "supervisor")).scalar_one()
    period = next_period()
    plan = services.create_plan(supervisor, org=org(db, "demo-1"), item=item, year=int(period[:4]))
    elig = eligibility(plan, period)
    frame = {u["id"] for u in elig.units}
    assert frame and frame <= firm_ids
    assert elig.other_types == 120 - 6  # every other unit of 偃师区 is left out of the frame
    result = engine.draw(elig.pool(), "cd" * 32)["result"]
    assert result and {t["unit_id"] for t in result} <= firm_ids
