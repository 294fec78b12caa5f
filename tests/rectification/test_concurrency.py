"""Orders issued at the same moment: twenty inspectors (one record each) get numbers 1..20, no gap, no duplicate;
one record gets one order of a kind however many requests race for it (finding 4 of the security review).

Each issuer is a thread with its own app context, hence its own session and database connection, like
requests served by separate workers; a barrier releases them together. On PostgreSQL
(TEST_DATABASE_URL) the counter row's and the record's locks serialise them; on SQLite the database write
lock does. Some issuers roll back (as a failed request would): their numbers are given to the others, not lost.
"""

from __future__ import annotations

import threading
import uuid

from flask_babel import force_locale
from sqlalchemy import select

from tests.factories import record_for_order
from tests.helpers import PROBLEMS, login
from webapp.audit import AuditEvent, verify
from webapp.auth.models import User
from webapp.extensions import db as _db
from webapp.inspections.models import Inspection
from webapp.rectification import services
from webapp.rectification.models import OrderCounter, RectificationOrder

N = 20


def test_concurrent_issuing_numbers_without_gaps_or_duplicates(app, world, db):
    user_id = world.lead_user.id
    inspection_ids = [world.inspection.id] + [record_for_order(world.task).id for _ in range(N - 1)]
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(N)
    errors: list[str] = []

    def worker(i: int) -> None:
        with app.app_context(), force_locale("zh_Hans"):
            try:
                user = _db.session.get(User, user_id)
                inspection = _db.session.get(Inspection, inspection_ids[i])
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
    for record in (world.inspection, record_for_order(world.task), record_for_order(world.task)):
        services.issue_order(world.lead_user, record, "deadline", PROBLEMS, 3, today=past)
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


def _form(key: str, days: str = "5") -> dict:
    return {
        "client_key": key,
        "kind": "deadline",
        "deadline_days": days,
        "problems-0-text": PROBLEMS[0]["text"],
        "problems-0-basis": PROBLEMS[0]["basis"],
    }


def _login_apart(phone, username: str) -> None:
    """Log a test client in from its own thread: in the test's app context the first login would be cached."""
    t = threading.Thread(target=login, args=(phone, username))
    t.start()
    t.join(60)


def _race(runs: int, work) -> list:
    """``work(i)`` in ``runs`` threads released together; their results (or exceptions) in thread order."""
    barrier = threading.Barrier(runs)
    results: list = [None] * runs

    def run(i: int) -> None:
        barrier.wait(60)
        try:
            results[i] = work(i)
        except Exception as exc:  # the caller asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def test_simultaneous_posts_of_one_issue_form_and_a_retry_make_one_order(app, world, db):
    """Finding 4: two simultaneous POSTs of the issue form made two numbered orders and a retry a third. The
    form carries a key: every post of it (at once, or again later) is answered with the one order."""
    phones = [app.test_client() for _ in range(2)]
    for phone in phones:
        _login_apart(phone, world.lead_user.username)
    url = f"/notices/new/{world.inspection.id}"
    key = str(uuid.uuid4())
    db.session.remove()
    answers = _race(2, lambda i: phones[i].post(url, data=_form(key)))
    retry = phones[0].post(url, data=_form(key))
    assert [r.status_code for r in [*answers, retry]] == [303, 303, 303]
    (order,) = db.session.execute(select(RectificationOrder)).scalars().all()
    assert {r.headers["Location"] for r in [*answers, retry]} == {f"/notices/{order.id}"}
    assert order.seq == 1 and order.client_key == key
    assert db.session.execute(select(OrderCounter.last_seq)).scalar_one() == 1  # no number used up
    issued = db.session.execute(select(AuditEvent).where(AuditEvent.action == "notice.issue")).scalars().all()
    assert len(issued) == 1
    # the same key with other content is refused, nothing is changed
    changed = phones[1].post(url, data=_form(key, days="9"))
    assert changed.status_code == 409 and order.number in changed.get_data(as_text=True)
    assert db.session.execute(select(RectificationOrder.deadline_days)).scalars().all() == [5]
    assert verify() == []


def test_two_inspectors_issuing_for_one_record_at_once_get_one_number(app, world, db):
    """Two forms (two keys) for the same record and kind: one order is issued, the other request is told which."""
    user_ids = [world.lead_user.id, world.partner_user.id]
    inspection_id = world.inspection.id
    db.session.remove()

    def issue(i: int):
        with app.app_context(), force_locale("zh_Hans"):
            try:
                user = _db.session.get_one(User, user_ids[i])
                inspection = _db.session.get_one(Inspection, inspection_id)
                order = services.issue_order(user, inspection, "deadline", PROBLEMS, 5, client_key=str(uuid.uuid4()))
                _db.session.commit()
                return order.number
            except Exception:
                _db.session.rollback()
                raise
            finally:
                _db.session.remove()

    results = _race(2, issue)
    numbers = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, services.OrderError)]
    assert len(numbers) == 1 and len(refused) == 1, results
    assert numbers[0] in refused[0].message and "已制发" in refused[0].message
    assert len(db.session.execute(select(RectificationOrder)).scalars().all()) == 1
    assert db.session.execute(select(OrderCounter.last_seq)).scalar_one() == 1
