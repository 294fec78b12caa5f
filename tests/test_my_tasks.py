"""我的任务: an inspector sees exactly their own active tasks, grouped by when they are due."""

import datetime as dt

from tests.conftest import login
from tests.factories import make_inspector, make_item, make_org, make_unit, make_user
from webapp.auth.models import Role
from webapp.draw.models import Task, TaskAssignment, TaskKind, TaskStatus
from webapp.tasks.queries import group_of


def _task(db, org, unit, version_id, date, people, status=TaskStatus.PLANNED):
    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=version_id,
        kind=TaskKind.COMPLAINT,
        planned_date=date,
        status=status,
        origin_note="举报投诉",
    )
    db.session.add(task)
    db.session.flush()
    for slot, (insp, active) in enumerate(people):
        db.session.add(
            TaskAssignment(
                task_id=task.id,
                slot=slot,
                dept="fire",
                role="lead" if slot == 0 else "assist",
                inspector_id=insp.id,
                active=active,
            )
        )
    return task


def _item_version_id(db, item):
    from sqlalchemy import select

    from webapp.catalog.models import ItemVersion

    return db.session.execute(select(ItemVersion.id).where(ItemVersion.item_id == item.id)).scalar_one()


def test_inspector_sees_own_tasks_with_partner_and_not_others(client, db):
    org = make_org()
    item = make_item(org)
    version_id = _item_version_id(db, item)
    me_user = make_user(org, role=Role.INSPECTOR, username="me")
    other_user = make_user(org, role=Role.INSPECTOR, username="other")
    me = make_inspector(org, name="李卫国", user=me_user)
    partner = make_inspector(org, name="赵志刚")
    other = make_inspector(org, name="钱多多", user=other_user)
    today = dt.date.today()
    mine = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", contact_phone="13800138000")
    theirs = make_unit(org, name="别人的火锅店")
    gone = make_unit(org, name="已被替换的宾馆")
    cancelled = make_unit(org, name="作废抽取的网吧")
    for unit, people, status in (
        (mine, [(me, True), (partner, True)], TaskStatus.PLANNED),
        (theirs, [(other, True), (partner, True)], TaskStatus.PLANNED),
        (gone, [(me, False), (partner, True)], TaskStatus.PLANNED),
        (cancelled, [(me, True), (partner, True)], TaskStatus.CANCELLED),
    ):
        _task(db, org, unit, version_id, today, people, status)
    db.session.commit()

    login(client, "me")
    page = client.get("/me").get_data(as_text=True)
    assert "洛阳好运来超市" in page
    assert "赵志刚" in page  # the partner
    assert "tel:13800138000" in page
    assert "今天" in page
    for hidden in ("别人的火锅店", "已被替换的宾馆", "作废抽取的网吧"):
        assert hidden not in page


def test_user_without_inspector_record_gets_a_clear_message(client, db):
    org = make_org()
    make_user(org, role=Role.INSPECTOR, username="lonely")
    db.session.commit()
    login(client, "lonely")
    assert "未关联执法检查人员" in client.get("/me").get_data(as_text=True)


def test_grouping_by_due_date():
    monday = dt.date(2026, 11, 23)

    def t(day, status=TaskStatus.PLANNED):
        return Task(planned_date=day, status=status)

    assert group_of(t(monday - dt.timedelta(days=1)), monday) == "overdue"
    assert group_of(t(monday), monday) == "today"
    assert group_of(t(monday + dt.timedelta(days=6)), monday) == "week"  # Sunday
    assert group_of(t(monday + dt.timedelta(days=7)), monday) == "later"
    assert group_of(t(monday - dt.timedelta(days=9), TaskStatus.SUBMITTED), monday) == "done"


def test_supervisor_home_shows_the_draw_reminder_and_the_month(client, db):
    org = make_org()
    item = make_item(org)
    version_id = _item_version_id(db, item)
    make_user(org, role=Role.SUPERVISOR, username="boss")
    insp = make_inspector(org)
    today = dt.date.today()
    _task(db, org, make_unit(org), version_id, today.replace(day=1), [(insp, True)])
    db.session.commit()
    login(client, "boss")
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page
    assert "抽取应在" in page  # when next month's draw is due
    assert "本月检查任务" in page
    overdue_expected = 1 if today.day > 1 else 0
    assert f"<dt>已逾期</dt><dd>{overdue_expected}</dd>" in page
