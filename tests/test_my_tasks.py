"""我的任务: an inspector sees exactly their own active tasks, grouped by when they are due."""

import datetime as dt

from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
from tests.helpers import login
from webapp import calendar
from webapp.auth.models import Role
from webapp.home.queries import group_of
from webapp.tasks.models import Task, TaskKind, TaskStatus


def _task(db, org, unit, version_id, date, people, status=TaskStatus.PLANNED):
    return make_task(org, unit, version_id, date, status, people, kind=TaskKind.COMPLAINT, origin_note="举报投诉")


def test_inspector_sees_own_tasks_with_partner_and_not_others(client, db):
    org = make_org()
    item = make_item(org)
    version_id = item.current.id
    me_user = make_user(org, role=Role.INSPECTOR, username="me")
    other_user = make_user(org, role=Role.INSPECTOR, username="other")
    me = make_inspector(org, name="李卫国", user=me_user)
    partner = make_inspector(org, name="赵志刚")
    other = make_inspector(org, name="钱多多", user=other_user)
    today = calendar.today()
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
    version_id = item.current.id
    make_user(org, role=Role.SUPERVISOR, username="boss")
    insp = make_inspector(org)
    today = calendar.today()
    _task(db, org, make_unit(org), version_id, today.replace(day=1), [(insp, True)])
    db.session.commit()
    login(client, "boss")
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page
    assert "抽取应在" in page  # when next month's draw is due
    assert "本月检查任务" in page
    overdue_expected = 1 if today.day > 1 else 0
    assert f"<dt>已逾期</dt><dd>{overdue_expected}</dd>" in page


def _order_scene(db, issued_on, days=5):
    """A task of ``me`` and a partner with an inspection, and a 责令限期改正 order issued on ``issued_on``."""
    import uuid

    from flask_babel import force_locale

    from webapp.inspections.models import CheckResult, Inspection, InspectionStatus
    from webapp.rectification import services

    org = make_org()
    org.short_name = "偃消"
    item = make_item(org)
    me_user = make_user(org, role=Role.INSPECTOR, username="me")
    me = make_inspector(org, name="李卫国", user=me_user)
    partner = make_inspector(org, name="赵志刚")
    unit = make_unit(org, name="洛阳好运来超市")
    task = _task(db, org, unit, item.current.id, issued_on, [(me, True), (partner, True)])
    task.status = TaskStatus.SUBMITTED
    inspection = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=org.id,
        status=InspectionStatus.SUBMITTED,
        result=CheckResult.DEADLINE,  # an order only on a submitted record whose result calls for one
    )
    db.session.add(inspection)
    db.session.flush()
    with force_locale("zh_Hans"):
        order = services.issue_order(
            me_user,
            inspection,
            "deadline",
            [{"text": "灭火器压力不足", "basis": "《中华人民共和国消防法》第十六条"}],
            days,
            today=issued_on,
        )
    db.session.commit()
    return task, order


def _reinspections(db):
    from sqlalchemy import select

    return db.session.execute(select(Task).where(Task.kind == TaskKind.REINSPECTION)).scalars().all()


def test_my_tasks_page_only_reads_and_shows_the_due_reinspection_once_made(client, db):
    """GET /me writes nothing, even with an order past its deadline; the daily command makes the 复查 task."""
    from webapp.audit import AuditEvent
    from webapp.rectification import services

    today = calendar.today()
    task, order = _order_scene(db, today - dt.timedelta(days=30))
    assert order.deadline < today and _reinspections(db) == []
    login(client, "me")
    events = db.session.query(AuditEvent).count()
    before = client.get("/me")
    assert before.status_code == 200
    db.session.expire_all()
    assert _reinspections(db) == []  # a page load creates no task
    assert db.session.query(AuditEvent).count() == events

    services.create_due_reinspections(None, today)  # what the daily command does
    db.session.commit()
    first = client.get("/me").get_data(as_text=True)
    second = client.get("/me").get_data(as_text=True)
    (reinspection,) = _reinspections(db)
    assert reinspection.parent_task_id == task.id
    assert {a.inspector.name for a in reinspection.active_assignments} == {"李卫国", "赵志刚"}
    for page in (first, second):
        assert page.count(f'href="/inspections/tasks/{reinspection.public_id}"') == 1  # listed once
        assert "复查" in page and order.number in page
        assert "已逾期" in page  # the order's deadline has passed


def test_an_issued_order_shows_the_working_days_left(client, db):
    today = calendar.today()
    _, order = _order_scene(db, today, days=10)
    login(client, "me")
    page = client.get("/me").get_data(as_text=True)
    assert f"整改期限 {order.deadline.isoformat()}" in page
    assert "还剩10个工作日" in page
    assert f"/notices/{order.id}" in page  # a tap opens the notice
    assert _reinspections(db) == []  # nothing is due yet


def test_done_tasks_count_down_to_the_20_working_day_publication_deadline(client, db):
    import uuid

    from webapp.inspections.models import Inspection, InspectionStatus

    org = make_org()
    version_id = make_item(org).current.id
    user = make_user(org, role=Role.INSPECTOR, username="done")
    me = make_inspector(org, user=user)
    today = calendar.today()
    checked_on = today - dt.timedelta(days=3)
    unit = make_unit(org, name="已检查的茶楼")
    task = _task(db, org, unit, version_id, checked_on, [(me, True)], TaskStatus.SUBMITTED)
    checked_at = dt.datetime.combine(checked_on, dt.time(10), tzinfo=calendar.SHANGHAI)
    db.session.add(
        Inspection(
            client_uuid=str(uuid.uuid4()),
            task_id=task.id,
            org_id=org.id,
            status=InspectionStatus.SUBMITTED,
            submitted_at=checked_at.astimezone(dt.UTC),
        )
    )
    db.session.commit()
    login(client, "done")
    page = client.get("/me").get_data(as_text=True)
    due = calendar.add_working_days(checked_on, 20)
    assert "已检查的茶楼" in page and "已完成" in page
    assert f"结果公示期限 {due.isoformat()}" in page
    assert f"还剩{calendar.working_days_between(today, due)}个工作日" in page


def test_only_the_latest_done_tasks_are_listed(client, db):
    org = make_org()
    version_id = make_item(org).current.id
    me = make_inspector(org, user=make_user(org, role=Role.INSPECTOR, username="veteran"))
    start = dt.date(2026, 1, 5)
    for i in range(22):
        unit = make_unit(org, name=f"历史单位{i:02d}号")
        _task(db, org, unit, version_id, start + dt.timedelta(days=i), [(me, True)], TaskStatus.SUBMITTED)
    _task(db, org, make_unit(org, name="待查的书店"), version_id, dt.date(2099, 1, 5), [(me, True)])
    db.session.commit()
    login(client, "veteran")
    page = client.get("/me").get_data(as_text=True)
    assert "待查的书店" in page
    assert "历史单位21号" in page and "历史单位02号" in page  # the latest 20, newest first
    assert "历史单位01号" not in page and "历史单位00号" not in page
    assert page.index("历史单位21号") < page.index("历史单位02号")
