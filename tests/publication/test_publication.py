"""一公开 deadlines: results public within 20 working days of the check, penalties within 7 of the decision;
published at once unless the organisation reviews first, and public on the due day whatever happens."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.factories import (
    add_inspection,
    add_order,
    make_inspector,
    make_item,
    make_org,
    make_task,
    make_unit,
    make_user,
    manual_task,
)
from tests.helpers import login, new_uuid, sign_all, signer_keys
from webapp import calendar
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation, Role
from webapp.calendar import CalendarOverride
from webapp.inspections.models import Inspection, InspectionStatus, PublishedCategory
from webapp.publication import queries, services
from webapp.rectification import services as notices
from webapp.rectification.models import FollowUp, OrderStatus
from webapp.tasks.models import TaskStatus

HX = {"HX-Request": "true"}


def _today(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(calendar, "today", lambda: day)


def _submit(client, db, scene) -> Inspection:
    """The lead inspector does the whole check on the phone and submits it."""
    url = f"/inspections/tasks/{scene.task.public_id}"
    login(client, "lead")
    cu = new_uuid()
    client.post(url + "/start", data={"client_uuid": cu})
    for p in scene.points:
        client.post(f"{url}/answers/{p.id}", data={"answer": "complies"}, headers=HX)
    client.post(url + "/partner")
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    client.post(url + "/result", data=data)
    sign_all(client, scene.task, signer_keys(scene.task))
    assert client.post(url + "/submit", data=data).status_code == 303
    client.post("/logout")
    db.session.expire_all()
    return db.session.execute(select(Inspection).where(Inspection.client_uuid == cu)).scalar_one()


def _public(client) -> tuple[str, str]:
    return (
        client.get("/public/results").get_data(as_text=True),
        client.get("/public/api/v1/results.json").get_data(as_text=True),
    )


def _org(db, scene) -> Organisation:
    return db.session.get(Organisation, scene.task.org_id)


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


# ------------------------------------------------------------------------------------- due dates


def test_due_dates_count_working_days_over_a_weekend_and_a_holiday_override(db):
    thursday = dt.date(2031, 3, 6)  # a year chinese-calendar does not know: weekdays work until overrides say
    assert services.penalty_due_on(thursday) == dt.date(2031, 3, 17)  # Sat 8 and Sun 9 do not count
    db.session.add(CalendarOverride(day=dt.date(2031, 3, 10), is_workday=False, note="假日"))
    db.session.flush()
    assert services.penalty_due_on(thursday) == dt.date(2031, 3, 18)  # the holiday does not count either
    db.session.add(CalendarOverride(day=dt.date(2031, 3, 15), is_workday=True, note="调休上班"))
    db.session.flush()
    assert services.penalty_due_on(thursday) == dt.date(2031, 3, 17)  # a Saturday worked counts

    org = make_org()
    task = make_task(org, make_unit(org), make_item(org).current.id, thursday)
    checked = dt.datetime(2031, 3, 5, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 6th in Shanghai
    ins = Inspection(client_uuid=str(uuid.uuid4()), task_id=task.id, org_id=org.id, checkin_at=checked)
    db.session.add(ins)
    db.session.flush()
    assert services.check_date(ins) == thursday
    assert services.result_due_on(ins) == dt.date(2031, 4, 3)  # 20 working days, the 10th a holiday, 15th worked


def test_a_supplementary_record_keeps_the_due_date_of_the_check_it_corrects(db):
    org = make_org()
    task = make_task(org, make_unit(org), make_item(org).current.id, dt.date(2026, 11, 2))
    old = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=org.id,
        status=InspectionStatus.SUBMITTED,
        checkin_at=dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC),
        publish_due_on=dt.date(2026, 11, 30),
    )
    db.session.add(old)
    db.session.flush()
    new = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=org.id,
        supersedes_id=old.id,
        checkin_at=dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC),
    )
    db.session.add(new)
    db.session.flush()
    services.on_result_submitted(new)
    assert new.publish_due_on == dt.date(2026, 11, 30)


# -------------------------------------------------------------------------------------- results


def test_without_review_a_result_is_published_by_its_submitter_at_once(client, db, scene):
    ins = _submit(client, db, scene)
    assert ins.publish_due_on == services.add_working_days(services.check_date(ins), 20)
    assert ins.published_at is not None and ins.published_by_id == scene.lead.id
    (event,) = _events(db, "inspection.submit")
    assert event.payload["published"] is True and event.payload["publish_due_on"] == ins.publish_due_on.isoformat()
    page, api = _public(client)
    assert "洛阳好运来超市" in page and ins.public_id in api


def test_with_review_a_result_waits_for_a_supervisor(client, db, scene):
    _org(db, scene).publication_review = True
    db.session.commit()
    ins = _submit(client, db, scene)
    assert ins.published_at is None and ins.publish_due_on > calendar.today()
    page, api = _public(client)
    assert "洛阳好运来超市" not in page and ins.public_id not in api

    login(client, "boss")
    body = client.get("/publication/").get_data(as_text=True)
    assert "待公示" in body and "洛阳好运来超市" in body and ins.publish_due_on.isoformat() in body
    resp = client.post("/publication/publish", data={"ins": ins.public_id})
    assert resp.status_code == 303
    db.session.expire_all()
    ins = db.session.get(Inspection, ins.id)
    assert ins.published_at is not None and ins.published_by_id == scene.supervisor.id
    (event,) = _events(db, "publication.published")
    assert event.actor_id == scene.supervisor.id and event.subject_id == str(ins.id)
    client.post("/logout")
    page, api = _public(client)
    assert "洛阳好运来超市" in page and ins.public_id in api
    # publishing again changes nothing
    login(client, "boss")
    client.post("/publication/publish", data={"ins": ins.public_id})
    assert len(_events(db, "publication.published")) == 1


def test_with_review_a_result_goes_public_on_its_due_day_even_if_no_job_ran(client, db, scene, monkeypatch):
    _org(db, scene).publication_review = True
    db.session.commit()
    ins = _submit(client, db, scene)
    due = ins.publish_due_on

    _today(monkeypatch, due - dt.timedelta(days=1))
    before = client.get("/public/api/v1/results.json")
    assert ins.public_id not in before.get_data(as_text=True)
    feed = client.get("/public/feed.atom").get_data(as_text=True)
    assert "洛阳好运来超市" not in feed

    _today(monkeypatch, due)
    # a client holding yesterday's copy must not get a 304, whichever validator it sends
    by_etag = client.get("/public/api/v1/results.json", headers={"If-None-Match": before.headers["ETag"]})
    assert by_etag.status_code == 200 and ins.public_id in by_etag.get_data(as_text=True)
    by_date = client.get("/public/api/v1/results.json", headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert by_date.status_code == 200 and ins.public_id in by_date.get_data(as_text=True)
    assert by_date.headers["Last-Modified"] != before.headers["Last-Modified"]
    page, _api = _public(client)
    assert "洛阳好运来超市" in page
    assert "洛阳好运来超市" in client.get("/public/feed.atom").get_data(as_text=True)
    # and once current, the copy is revalidated with a 304 again
    again = client.get("/public/api/v1/results.json", headers={"If-None-Match": by_etag.headers["ETag"]})
    assert again.status_code == 304
    db.session.expire_all()
    assert db.session.get(Inspection, ins.id).published_at is None  # public by the rule, not yet stamped


def _submitted(db, org, due: dt.date, unit_name: str) -> Inspection:
    unit = make_unit(org, name=unit_name)
    task = make_task(org, unit, make_item(org).current.id, due - dt.timedelta(days=30), status=TaskStatus.SUBMITTED)
    ins = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=org.id,
        status=InspectionStatus.SUBMITTED,
        category=PublishedCategory.NO_PROBLEM,
        checkin_at=dt.datetime(2026, 10, 9, 2, tzinfo=dt.UTC),
        submitted_at=dt.datetime(2026, 10, 9, 3, tzinfo=dt.UTC),
        publish_due_on=due,
    )
    db.session.add(ins)
    db.session.flush()
    return ins


def test_the_daily_run_stamps_what_is_due_audits_each_and_is_idempotent(db, runner):
    org = make_org()
    org.publication_review = True
    due = _submitted(db, org, dt.date(2026, 11, 6), "到期的单位")
    later = _submitted(db, org, dt.date(2026, 11, 27), "未到期的单位")
    order = add_order(due, due.task.unit, status=OrderStatus.NOT_RECTIFIED)
    penalty = FollowUp(
        order_id=order.id,
        kind="penalty",
        decision_number="偃消行罚决字〔2026〕0031号",
        decision_date=dt.date(2026, 11, 2),
        publish_due_on=dt.date(2026, 11, 11),
    )
    db.session.add(penalty)
    db.session.commit()

    out = runner.invoke(args=["publication", "run", "--date", "2026-11-20"])
    assert out.exit_code == 0, out.output
    assert "1 result(s) and 1 penalty decision(s)" in out.output
    db.session.expire_all()
    assert due.published_at is not None and due.published_by_id is None  # published by the system
    assert penalty.published_at is not None and penalty.published_by_id is None
    assert later.published_at is None
    events = _events(db, "publication.auto")
    assert len(events) == 2 and {e.actor_id for e in events} == {None} and {e.reason for e in events} == {"deadline"}
    assert {e.org_id for e in events} == {org.id}

    again = runner.invoke(args=["publication", "run", "--date", "2026-11-20"])
    assert "0 result(s) and 0 penalty decision(s)" in again.output
    assert len(_events(db, "publication.auto")) == 2


# ------------------------------------------------------------------------------------- penalties


def _penalty_scene(db, review: bool):
    org = make_org(code=f"pen-{review}")
    org.publication_review = review
    item = make_item(org)
    unit = make_unit(org, name="偃师处罚测试商行")
    inspector = make_inspector(org)
    ins = add_inspection(manual_task(org, unit, item, [inspector]))
    order = add_order(ins, unit, number=f"偃消限字〔2026〕第00{int(review)}9号")
    user = make_user(org, Role.INSPECTOR)
    db.session.commit()
    notices.record_outcome(
        user,
        order,
        False,
        follow_up="penalty",
        decision_number="偃消行罚决字〔2026〕0099号",
        decision_date=dt.date(2026, 11, 19),  # a Thursday
    )
    db.session.commit()
    return db.session.execute(select(FollowUp)).scalar_one(), user


def test_a_penalty_is_due_seven_working_days_after_the_decision_and_waits_under_review(client, db, monkeypatch):
    fu, _user = _penalty_scene(db, review=True)
    assert fu.publish_due_on == dt.date(2026, 11, 30)  # Thu 19 + 7 working days, over a weekend
    assert fu.published_at is None
    _today(monkeypatch, dt.date(2026, 11, 27))
    page, api = _public(client)
    assert "偃师处罚测试商行" in page and "偃消行罚决字〔2026〕0099号" not in page + api
    _today(monkeypatch, dt.date(2026, 11, 30))
    page, api = _public(client)
    assert "偃消行罚决字〔2026〕0099号" in page and "偃消行罚决字〔2026〕0099号" in api


def test_without_review_a_penalty_is_published_when_recorded(client, db):
    fu, user = _penalty_scene(db, review=False)
    assert fu.published_at is not None and fu.published_by_id == user.id
    (event,) = _events(db, "notice.outcome")
    assert event.payload["published"] is True and event.payload["publish_due_on"] == "2026-11-30"
    assert "偃消行罚决字〔2026〕0099号" in client.get("/public/results").get_data(as_text=True)


def test_a_supervisor_publishes_a_penalty_from_the_page(client, db, monkeypatch):
    _today(monkeypatch, dt.date(2026, 11, 20))
    fu, _user = _penalty_scene(db, review=True)
    boss = make_user(db.session.get(Organisation, fu.order.org_id), Role.SUPERVISOR, username="penboss")
    db.session.commit()
    login(client, "penboss")
    body = client.get("/publication/").get_data(as_text=True)
    assert "偃消行罚决字〔2026〕0099号" in body
    client.post("/publication/publish", data={"pen": str(fu.id)})
    db.session.expire_all()
    assert fu.published_at is not None and fu.published_by_id == boss.id
    (event,) = _events(db, "publication.published")
    assert event.subject_type == "order_follow_up" and event.actor_id == boss.id


# ----------------------------------------------------------------------------------- flagged lists


def test_checked_but_unsubmitted_records_are_flagged_near_and_past_their_deadline(client, db, monkeypatch):
    today = dt.date(2031, 6, 11)  # a Wednesday in a year with weekdays only
    _today(monkeypatch, today)
    org = make_org()
    boss = make_user(org, Role.SUPERVISOR, username="flagboss")
    version_id = make_item(org).current.id
    expected = {"soon": set(), "overdue": set()}
    limit = calendar.add_working_days(today, 3)
    for k in range(0, 40):
        checked = today - dt.timedelta(days=k)
        unit = make_unit(org, name=f"草稿单位{k:02d}")
        task = make_task(org, unit, version_id, checked, status=TaskStatus.IN_PROGRESS)
        db.session.add(
            Inspection(
                client_uuid=str(uuid.uuid4()),
                task_id=task.id,
                org_id=org.id,
                checkin_at=dt.datetime.combine(checked, dt.time(9), calendar.SHANGHAI).astimezone(dt.UTC),
            )
        )
        due = calendar.add_working_days(checked, 20)
        if due < today:
            expected["overdue"].add(task.public_id)
        elif due <= limit:
            expected["soon"].add(task.public_id)
    db.session.commit()
    assert expected["soon"] and expected["overdue"]

    soon, overdue = queries.flagged(boss, today)
    assert {r.task_public_id for r in soon.rows} == expected["soon"] and soon.total == len(expected["soon"])
    assert {r.task_public_id for r in overdue.rows} == expected["overdue"]
    assert all(r.days_left < 0 for r in overdue.rows) and all(0 <= r.days_left <= 3 for r in soon.rows)

    summary = queries.dashboard_summary(boss, today)
    assert (summary.due_soon, summary.overdue) == (len(expected["soon"]), len(expected["overdue"]))
    assert len(summary.items) == 10 and summary.items[0].days_left < 0  # overdue first

    login(client, "flagboss")
    body = client.get("/publication/").get_data(as_text=True)
    assert "即将超期" in body and "已超期未录入" in body
    for public_id in expected["soon"] | expected["overdue"]:
        assert f"/draw/t/{public_id}" in body


def test_results_published_late_are_counted_for_the_year(db):
    org = make_org()
    boss = make_user(org, Role.SUPERVISOR)
    by_hand = _submitted(db, org, dt.date(2026, 11, 6), "晚公示的单位")
    by_hand.published_at, by_hand.published_by_id = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC), boss.id
    on_time = _submitted(db, org, dt.date(2026, 11, 6), "按时的单位")
    on_time.published_at = dt.datetime(2026, 11, 9, 2, tzinfo=dt.UTC)  # stamped late by the job, public on time
    db.session.commit()
    late = queries.published_late(boss, dt.date(2026, 11, 20))
    assert late.total == 1 and [r.unit for r in late.rows] == ["晚公示的单位"]
    assert queries.dashboard_summary(boss, dt.date(2026, 11, 20)).published_late == 1


# ------------------------------------------------------------------------------- access and audit


def test_the_page_shows_only_the_supervisors_own_organisations(client, db, scene):
    _org(db, scene).publication_review = True
    db.session.commit()
    ins = _submit(client, db, scene)

    login(client, "otherboss")
    body = client.get("/publication/").get_data(as_text=True)
    assert "洛阳好运来超市" not in body
    client.post("/publication/publish", data={"ins": ins.public_id})
    db.session.expire_all()
    assert db.session.get(Inspection, ins.id).published_at is None and not _events(db, "publication.published")
    assert queries.dashboard_summary(scene.other_supervisor, calendar.today()).awaiting_review == 0
    assert queries.dashboard_summary(scene.supervisor, calendar.today()).awaiting_review == 1
    client.post("/logout")

    login(client, "lead")
    assert client.get("/publication/").status_code == 403
    assert client.post("/publication/publish", data={"ins": ins.public_id}).status_code == 403


def test_the_review_switch_needs_a_reason_and_is_audited(client, db, scene):
    login(client, "boss")
    resp = client.post("/publication/review", data={"review": "on", "reason": ""})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写修改原因" in body
    assert _org(db, scene).publication_review is False
    resp = client.post("/publication/review", data={"review": "on", "reason": "公示前由队长审核"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert _org(db, scene).publication_review is True
    (event,) = _events(db, "publication.review_changed")
    assert event.reason == "公示前由队长审核" and event.payload == {"publication_review": [False, True]}
    assert event.actor_id == scene.supervisor.id


def test_the_dashboard_card_links_to_the_page(app, db, scene):
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(scene.supervisor)
        html = render_template(
            "publication/_dashboard_card.html",
            publication=queries.dashboard_summary(scene.supervisor, calendar.today()),
        )
    assert 'id="publication"' in html and "公示时限" in html and "/publication/" in html


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()
