"""一户一档: the unit's page and the task page show the unit's history (inspections and results, orders with their
deadlines and outcomes, penalties), and the next visit lists the problems still open to re-check."""

from __future__ import annotations

import datetime as dt

from tests.factories import NOW, add_order, make_inspection, make_task
from tests.helpers import body, login
from webapp.auth.models import Organisation
from webapp.inspections.models import CheckResult, PublishedCategory
from webapp.rectification.models import FollowUp, FollowUpKind, OrderStatus
from webapp.tasks.models import TaskKind, TaskStatus


def _earlier_visit(db, scene):
    """An earlier check of the same unit by the same pair: 责令限期改正 with one order still open and one whose
    problem was not put right and ended in a penalty."""
    current = scene.task
    org = db.session.get(Organisation, current.org_id)
    people = [a.inspector for a in current.active_assignments]
    earlier = make_task(
        org,
        current.unit,
        current.item_version_id,
        dt.date(2026, 3, 10),
        status=TaskStatus.SUBMITTED,
        people=people,
        kind=TaskKind.COMPLAINT,
    )
    record = make_inspection(
        earlier,
        NOW - dt.timedelta(days=200),
        PublishedCategory.ORDERED_RECTIFY,
        result=CheckResult.DEADLINE,
        findings=["三楼安全出口上锁"],
    )
    open_order = add_order(record, current.unit, number="偃消限字〔2026〕第0007号")
    open_order.problems = [{"text": "三楼安全出口上锁", "basis": "《中华人民共和国消防法》第二十八条"}]
    open_order.seq = 7
    db.session.flush()
    closed = add_order(record, current.unit, OrderStatus.NOT_RECTIFIED, number="偃消限字〔2026〕第0003号")
    closed.problems = [{"text": "灭火器压力不足", "basis": "《中华人民共和国消防法》第十六条"}]
    closed.outcome = [False]
    db.session.add(
        FollowUp(
            order_id=closed.id,
            kind=FollowUpKind.PENALTY,
            decision_number="偃消行罚决字〔2026〕0012号",
            decision_date=dt.date(2026, 4, 2),
        )
    )
    db.session.commit()
    return earlier


def test_the_unit_page_shows_inspections_orders_outcomes_and_penalties(client, db, scene):
    _earlier_visit(db, scene)
    login(client, "boss")
    page = body(client.get(f"/registry/units/{scene.task.unit.public_id}"))
    history = page[page.index('id="unit-history"') :]
    assert "一户一档" in history
    assert "2026-03-10" in history and "责令限期改正" in history and "发现问题已责令改正" in history
    assert "三楼安全出口上锁" in history
    assert "偃消限字〔2026〕第0007号" in history and "偃消限字〔2026〕第0003号" in history
    assert "已逾期" in history  # not put right
    assert "偃消行罚决字〔2026〕0012号" in history  # the penalty
    assert "待复查的问题" in history


def test_the_next_visit_lists_the_open_problems_to_re_check(client, db, scene):
    earlier = _earlier_visit(db, scene)
    login(client, "lead")
    page = body(client.get(f"/inspections/tasks/{scene.task.public_id}"))
    history = page[page.index('id="unit-history"') :]
    assert "待复查的问题" in history
    open_part = history[: history.index("检查记录")]
    assert "三楼安全出口上锁" in open_part and "偃消限字〔2026〕第0007号" in open_part
    assert "灭火器压力不足" not in open_part  # decided already (penalty), nothing to re-check
    assert earlier.planned_date.isoformat() in history
    visits = history.split("检查记录")[1].split("整改文书")[0]
    assert visits.count("<li>") == 1  # the task being worked on is not its own history


def test_tasks_the_user_may_not_see_stay_out_of_the_history(client, db, scene):
    """A task of the unit given to other inspectors (no public draw) is not shown to this pair."""
    org = db.session.get(Organisation, scene.task.org_id)
    other = [i for i in (scene.other.inspector,) if i is not None]
    make_task(org, scene.task.unit, scene.task.item_version_id, dt.date(2026, 5, 5), people=other)
    db.session.commit()
    login(client, "boss")
    page = body(client.get(f"/registry/units/{scene.task.unit.public_id}"))
    assert "2026-05-05" in page[page.index('id="unit-history"') :]
    client.post("/logout")
    login(client, "lead")
    page = body(client.get(f"/inspections/tasks/{scene.task.public_id}"))
    assert "2026-05-05" not in page[page.index('id="unit-history"') :]
