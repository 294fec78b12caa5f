"""Issuing orders: numbers, deadlines on the Chinese calendar, validation, audit; re-inspection and outcomes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.factories import record_for_order
from tests.helpers import PROBLEMS
from webapp.audit import AuditEvent
from webapp.rectification import numbering, services
from webapp.rectification.models import FollowUp, OrderStatus, RectificationOrder
from webapp.registry.models import CreditLevel, RiskLevel
from webapp.tasks.models import Task, TaskKind

DAY = dt.date(2026, 11, 23)  # a Monday


def issue(world, kind="deadline", days=5, today=DAY, problems=PROBLEMS, record=None, key=None):
    """An order for ``record`` (the world's record by default); a record gets one order of each kind."""
    record = record or world.inspection
    return services.issue_order(world.lead_user, record, kind, problems, days, today=today, client_key=key)


def another_record(world):
    return record_for_order(world.task)


def test_numbers_follow_the_default_pattern_per_kind_and_year(world, db):
    a = issue(world)
    b = issue(world, record=another_record(world))
    c = issue(world, kind="immediate")
    d = issue(world, today=dt.date(2027, 1, 4), record=another_record(world))
    assert [a.number, b.number] == ["偃师大队限字〔2026〕第0001号", "偃师大队限字〔2026〕第0002号"]
    assert c.number == "偃师大队即字〔2026〕第0001号"
    assert d.number == "偃师大队限字〔2027〕第0001号"


def test_organisation_pattern_gives_the_official_number(world, db):
    numbering.set_numbering(
        world.supervisor, world.org, "偃", "{abbr}消限字〔{year}〕第{seq:04d}号", "{abbr}消即字〔{year}〕第{seq:04d}号"
    )
    assert issue(world).number == "偃消限字〔2026〕第0001号"


@pytest.mark.parametrize(
    "pattern",
    ["{abbr}限字〔{year}〕", "{abbr}{year}{seq}{unit}", "{abbr.__class__}{year}{seq}", "{abbr}{year}{seq"],
)
def test_bad_patterns_are_refused(world, db, pattern):
    with pytest.raises(numbering.NumberingError):
        numbering.set_numbering(world.supervisor, world.org, "偃", pattern, "{abbr}即〔{year}〕{seq}")


def test_a_rolled_back_order_gives_its_number_back(world, db):
    issue(world)
    db.session.rollback()
    assert issue(world).number.endswith("第0001号")


def test_deadline_counts_working_days_on_the_chinese_calendar(world, db):
    # 2025-10-01..08 are National Day holidays; Saturday 2025-10-11 is a working day (调休)
    order = issue(world, days=3, today=dt.date(2025, 9, 30))
    assert order.deadline == dt.date(2025, 10, 11)
    assert issue(world, kind="immediate", today=DAY).deadline == DAY


def test_problems_need_text_and_legal_basis_and_a_deadline(world, db):
    with pytest.raises(services.OrderError, match="至少"):
        issue(world, problems=[{"text": " ", "basis": "x"}])
    with pytest.raises(services.OrderError, match="法律依据"):
        issue(world, problems=[{"text": "灭火器失效", "basis": ""}])
    with pytest.raises(services.OrderError) as e:
        issue(world, days=0)
    assert e.value.field == "deadline_days"


def test_issuing_is_audited(world, db):
    order = issue(world)
    db.session.commit()
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "notice.issue")).scalar_one()
    assert ev.subject_id == str(order.id) and ev.payload["number"] == order.number
    assert ev.actor_id == world.lead_user.id and ev.org_id == world.org.id


def test_status_is_pending_then_overdue_after_the_deadline(world, db):
    order = issue(world, days=5)
    assert order.display_status(order.deadline) == "pending"
    assert order.display_status(order.deadline + dt.timedelta(days=1)) == "overdue"


def test_tokens_are_long_and_distinct(world, db):
    a, b = issue(world), issue(world, kind="immediate")
    assert a.token != b.token and len(a.token) >= 32


def test_reinspection_task_appears_after_the_deadline_for_the_same_inspectors(world, db):
    order = issue(world, days=5)
    db.session.commit()
    assert services.create_due_reinspections(None, order.deadline) == []
    created = services.create_due_reinspections(None, order.deadline + dt.timedelta(days=1))
    db.session.commit()
    assert len(created) == 1
    task = created[0]
    assert task.kind == TaskKind.REINSPECTION and task.parent_task_id == world.task.id
    assert {a.inspector_id for a in task.assignments} == {world.lead.id, world.partner.id}
    assert order.reinspection_task_id == task.id
    # running again creates nothing more
    assert services.create_due_reinspections(None, order.deadline + dt.timedelta(days=2)) == []
    assert db.session.execute(select(Task).where(Task.kind == TaskKind.REINSPECTION)).scalars().all() == [task]


def test_the_submit_paths_create_the_organisations_due_reinspections(world, db):
    """No page load writes: issuing an order or submitting a record makes the 复查 tasks that came due."""
    from webapp import events

    first = issue(world, days=5)
    later = first.deadline + dt.timedelta(days=1)
    second = services.issue_order(world.lead_user, record_for_order(world.task), "deadline", PROBLEMS, 5, today=later)
    assert first.reinspection_task_id is not None and second.reinspection_task_id is None

    long_ago = dt.date(2025, 9, 1)
    third = services.issue_order(world.lead_user, record_for_order(world.task), "deadline", PROBLEMS, 5, today=long_ago)
    record = record_for_order(world.task)
    events.result_submitted.send(record, user=world.lead_user)  # as inspections.services.submit does
    assert third.reinspection_task_id is not None  # its deadline (in 2025) has passed by today


def test_rectified_orders_get_no_reinspection_task(world, db):
    order = issue(world, days=5)
    services.record_outcome(world.lead_user, order, True, "已清理")
    assert services.create_due_reinspections(None, order.deadline + dt.timedelta(days=1)) == []
    assert order.display_status(order.deadline + dt.timedelta(days=10)) == "rectified"


def test_not_put_right_needs_a_follow_up_and_worsens_the_unit(world, db):
    order = issue(world, days=5)
    with pytest.raises(services.OrderError):
        services.record_outcome(world.lead_user, order, False)
    with pytest.raises(services.OrderError, match="决定书"):
        services.record_outcome(world.lead_user, order, False, follow_up="penalty")
    assert order.status == OrderStatus.PENDING
    services.record_outcome(
        world.lead_user,
        order,
        False,
        "仍堆放杂物",
        follow_up="penalty",
        decision_number="偃消行罚决字〔2026〕第0007号",
        decision_date=dt.date(2026, 12, 8),
    )
    db.session.commit()
    assert order.status == OrderStatus.NOT_RECTIFIED
    assert order.display_status(order.deadline) == "overdue"
    fu = db.session.execute(select(FollowUp)).scalar_one()
    assert fu.decision_number == "偃消行罚决字〔2026〕第0007号"
    assert world.unit.credit_level == CreditLevel.POOR and world.unit.risk_level == RiskLevel.YELLOW
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["unit.credit_risk", "notice.outcome"]
    with pytest.raises(services.OrderError):
        services.record_outcome(world.lead_user, order, True)


def test_referral_and_pending_follow_ups(world, db):
    a, b = issue(world), issue(world, record=another_record(world))
    with pytest.raises(services.OrderError):
        services.record_outcome(world.lead_user, a, False, follow_up="referral")
    services.record_outcome(world.lead_user, a, False, follow_up="referral", referred_to="区应急管理局")
    services.record_outcome(world.lead_user, b, False, follow_up="pending")
    kinds = db.session.execute(select(FollowUp.kind).order_by(FollowUp.id)).scalars().all()
    assert [k.value for k in kinds] == ["referral", "pending"]


def test_cli_creates_due_reinspections(world, db, runner):
    order = issue(world, days=5)
    db.session.commit()
    later = (order.deadline + dt.timedelta(days=1)).isoformat()
    result = runner.invoke(args=["rectification", "reinspections", "--date", later])
    assert result.exit_code == 0, result.output
    assert "1 re-inspection task(s) created" in result.output
    db.session.expire_all()
    assert db.session.get(RectificationOrder, order.id).reinspection_task_id is not None


def test_orders_of_several_inspections_share_the_series(world, db):
    second = record_for_order(world.task)
    a = issue(world)
    b = services.issue_order(world.lead_user, second, "deadline", PROBLEMS, 3, today=DAY)
    assert (a.seq, b.seq) == (1, 2) and b.inspection_id == second.id


def test_outcome_per_problem(world, db):
    a, b = issue(world), issue(world, record=another_record(world))
    with pytest.raises(services.OrderError):
        services.record_outcome(world.lead_user, a, [True])  # two problems, one answer
    services.record_outcome(world.lead_user, a, [True, True])
    assert a.status == OrderStatus.RECTIFIED and a.outcome == [True, True]
    services.record_outcome(world.lead_user, b, [True, False], follow_up="pending")
    assert b.status == OrderStatus.NOT_RECTIFIED and b.outcome == [True, False]


def test_no_order_for_an_inspection_that_found_no_problem(world, db):
    from webapp.inspections.models import CheckResult

    world.inspection.result = CheckResult.NO_PROBLEM
    with pytest.raises(services.OrderError, match="未发现问题"):
        issue(world)


# ------------------------------------------------------------------------------ one order, however often asked


def test_the_same_key_again_gives_the_order_it_issued(world, db):
    """Finding 4: a retry made a third numbered order. The form's key makes issuing idempotent."""
    key = str(uuid.uuid4())
    first = issue(world, key=key)
    db.session.commit()
    again = issue(world, key=key, today=DAY + dt.timedelta(days=1))  # a retry, even the next day
    assert again.id == first.id and again.number == first.number
    assert db.session.execute(select(RectificationOrder)).scalars().all() == [first]
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "notice.issue")).scalars().all()
    assert len(events) == 1


def test_the_same_key_with_other_content_is_refused_and_changes_nothing(world, db):
    key = str(uuid.uuid4())
    first = issue(world, key=key)
    db.session.commit()
    for changed in ({"days": 9}, {"problems": PROBLEMS[:1]}, {"kind": "immediate"}, {"record": another_record(world)}):
        with pytest.raises(services.OrderConflict, match=first.number) as e:
            issue(world, key=key, **changed)
        assert e.value.status == 409
    db.session.rollback()
    assert db.session.execute(select(RectificationOrder.deadline_days)).scalars().all() == [5]


def test_a_record_gets_one_order_of_each_kind(world, db):
    """A second form (another key) for the same record and kind is told which order was issued."""
    first = issue(world)
    with pytest.raises(services.OrderError, match=first.number) as e:
        issue(world)
    assert e.value.field == "kind" and "不能重复制发" in e.value.message
    assert issue(world, kind="immediate").number.startswith("偃师大队即字")  # the other kind still may be issued


def test_a_key_that_is_not_a_uuid_is_refused(world, db):
    with pytest.raises(services.OrderError, match="页面已过期"):
        issue(world, key="not-a-key")
