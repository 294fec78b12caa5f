"""Two supervisors pressing the same button at the same moment make one draw, not two.

Each supervisor is a thread with its own app context, hence its own session and database connection,
exactly like two requests served by two workers. A barrier releases both at once. Run with
TEST_DATABASE_URL pointing at PostgreSQL to exercise real row locks and the partial unique index;
on SQLite the single writer serialises the two transactions and the same guarantees must hold.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.factories import known_years, make_inspector, make_item, make_org, make_unit, make_user
from webapp.audit import AuditEvent
from webapp.auth.models import Role, User
from webapp.draw import services
from webapp.draw.models import Draw, DrawStatus, Plan, PlanKind
from webapp.extensions import db as _db
from webapp.tasks.models import Task, TaskAssignment

YEAR = 2030
PERIOD = "2030-09"
EARLY = "测试：提前抽取（本期在测试日之后数年）"


def race(app, action, users: list[int], timeout: float = 60) -> list[tuple[str, object]]:
    """Run ``action(user)`` in one thread per user, released together; each commits or rolls back."""
    barrier = threading.Barrier(len(users))
    outcomes: list[tuple[str, object]] = []
    lock = threading.Lock()

    def worker(user_id: int) -> None:
        with app.app_context(), force_locale("zh_Hans"):
            user = _db.session.get(User, user_id)
            try:
                prepared = action.prepare(user)
                barrier.wait(timeout)
                result = action(user, prepared)
                _db.session.commit()
                outcome: tuple[str, object] = ("ok", result)
            except services.DrawError as exc:
                _db.session.rollback()
                outcome = ("refused", exc.message)
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                _db.session.rollback()
                outcome = ("error", repr(exc))
            finally:
                _db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a supervisor's request hung"
    return outcomes


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    known_years(YEAR)


@pytest.fixture
def world(db):
    org = make_org(code="d1")
    item = make_item(org, code="fire-duty")
    sups = [make_user(org, Role.SUPERVISOR) for _ in range(2)]
    for _ in range(9):  # three rounds of three tasks: a unit is drawn once per period and item
        make_unit(org)
    for _ in range(6):
        make_inspector(org, cert_valid_until=dt.date(YEAR + 1, 12, 31))
    plans = [
        services.create_plan(
            sups[0],
            org=org,
            item=item,
            year=YEAR,
            kind=PlanKind.SPECIAL,
            monthly_quotas={"general": 3},
            targets={},
            name=f"专项检查{n}",
        )
        for n in range(3)
    ]
    db.session.commit()
    return [s.id for s in sups], [p.id for p in plans]


class PressDraw:
    """Both supervisors have the committed draw open with its witness and press 抽取."""

    def __init__(self, draw_id: int):
        self.draw_id = draw_id

    def prepare(self, user):
        draw = _db.session.get(Draw, self.draw_id)
        assert draw.status == DrawStatus.COMMITTED and draw.witnesses  # both see the button
        return draw

    def __call__(self, user, draw):
        services.perform(user, draw)
        return draw.seed


class PressCommit:
    """Both supervisors open the plan's ceremony page for the period and press 冻结并承诺."""

    def __init__(self, plan_id: int):
        self.plan_id = plan_id

    def prepare(self, user):
        plan = _db.session.get(Plan, self.plan_id)
        assert services.live_draw(plan, PERIOD) is None
        return plan

    def __call__(self, user, plan):
        return services.commit(user, plan, PERIOD, early_reason=EARLY).public_id


def test_two_supervisors_pressing_draw_make_one_draw(app, db, world):
    sups, plans = world
    for plan_id in plans:  # several rounds: a race that is lost by chance once must not pass
        plan = db.session.get(Plan, plan_id)
        with force_locale("zh_Hans"):
            draw = services.commit(db.session.get(User, sups[0]), plan, PERIOD, early_reason=EARLY)
            services.add_witness(db.session.get(User, sups[0]), draw, "王监督", "廉政监督员", "20261123")
        db.session.commit()
        draw_id = draw.id

        outcomes = race(app, PressDraw(draw_id), sups)

        kinds = sorted(k for k, _ in outcomes)
        assert kinds == ["ok", "refused"], outcomes
        refusal = next(m for k, m in outcomes if k == "refused")
        assert "已由他人完成" in refusal or "已经完成" in refusal
        db.session.expire_all()
        draw = db.session.get(Draw, draw_id)
        assert draw.status == DrawStatus.DRAWN and draw.seed == next(v for k, v in outcomes if k == "ok")
        tasks = db.session.execute(select(func.count(Task.id)).where(Task.draw_id == draw_id)).scalar()
        assert tasks == len(draw.result) == 3
        assignments = db.session.execute(
            select(func.count(TaskAssignment.id)).join(Task).where(Task.draw_id == draw_id)
        ).scalar()
        assert assignments == 6
        drawn_events = db.session.execute(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "draw.drawn", AuditEvent.subject_id == str(draw_id)
            )
        ).scalar()
        assert drawn_events == 1


def test_two_supervisors_pressing_commit_make_one_draw(app, db, world):
    sups, plans = world
    for plan_id in plans:
        outcomes = race(app, PressCommit(plan_id), sups)
        kinds = sorted(k for k, _ in outcomes)
        assert kinds == ["ok", "refused"], outcomes
        assert "本期已有抽取记录" in next(m for k, m in outcomes if k == "refused")
        db.session.expire_all()
        draws = db.session.execute(select(Draw).where(Draw.plan_id == plan_id)).scalars().all()
        assert [d.public_id for d in draws] == [next(v for k, v in outcomes if k == "ok")]
        committed = db.session.execute(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "draw.committed", AuditEvent.subject_id == str(draws[0].id)
            )
        ).scalar()
        assert committed == 1
