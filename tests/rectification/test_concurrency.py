"""Twenty inspectors issuing orders at the same moment get numbers 1..20: no gap, no duplicate.

Each issuer is a thread with its own app context, hence its own session and database connection, like
requests served by separate workers; a barrier releases them together. On PostgreSQL
(TEST_DATABASE_URL) the counter row's lock serialises them; on SQLite the database write lock does.
Some issuers roll back (as a failed request would): their numbers are given to the others, not lost.
"""

from __future__ import annotations

import threading

from flask_babel import force_locale
from sqlalchemy import select

from tests.helpers import PROBLEMS
from webapp.audit import AuditEvent, verify
from webapp.auth.models import User
from webapp.extensions import db as _db
from webapp.inspections.models import Inspection
from webapp.rectification import services
from webapp.rectification.models import RectificationOrder

N = 20


def test_concurrent_issuing_numbers_without_gaps_or_duplicates(app, world, db):
    user_id, inspection_id = world.lead_user.id, world.inspection.id
    db.session.remove()
    barrier = threading.Barrier(N)
    errors: list[str] = []

    def worker(i: int) -> None:
        with app.app_context(), force_locale("zh_Hans"):
            try:
                user = _db.session.get(User, user_id)
                inspection = _db.session.get(Inspection, inspection_id)
                _db.session.commit()  # give the connection back: the pool holds fewer than N
                barrier.wait(60)
                services.issue_order(user, inspection, "deadline", PROBLEMS, 5)
                if i % 5 == 4:  # four of them fail after taking a number
                    _db.session.rollback()
                else:
                    _db.session.commit()
            except Exception as exc:  # reported by the assertion below
                _db.session.rollback()
                errors.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "an issuer hung"
    assert errors == []
    orders = db.session.execute(select(RectificationOrder).order_by(RectificationOrder.seq)).scalars().all()
    committed = N - N // 5
    assert [o.seq for o in orders] == list(range(1, committed + 1))
    assert len({o.number for o in orders}) == committed
    assert orders[-1].number.endswith(f"第{committed:04d}号")
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "notice.issue")).scalars().all()
    assert len(events) == committed
    assert verify() == []


def test_overlapping_reinspection_runs_make_one_task_per_order(app, world, db):
    import datetime as dt

    from webapp.tasks.models import Task, TaskKind

    past = dt.date.today() - dt.timedelta(days=30)
    for _ in range(3):
        services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 3, today=past)
    db.session.commit()
    db.session.remove()
    runs = 4
    barrier = threading.Barrier(runs)
    errors: list[str] = []

    def worker() -> None:
        with app.app_context(), force_locale("zh_Hans"):
            try:
                barrier.wait(60)
                services.create_due_reinspections(None)
                _db.session.commit()
            except Exception as exc:  # reported by the assertion below
                _db.session.rollback()
                errors.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    tasks = db.session.execute(select(Task).where(Task.kind == TaskKind.REINSPECTION)).scalars().all()
    assert len(tasks) == 3
    linked = db.session.execute(select(RectificationOrder.reinspection_task_id)).scalars().all()
    assert sorted(linked) == sorted(t.id for t in tasks)
