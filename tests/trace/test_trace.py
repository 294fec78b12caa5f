"""扫码亮证: the unit scans the inspector's code, sees the inspection is genuine, rates it once, reports misconduct.

The record is set up checked in (factories); the lead inspector's record page shows the code. The public page is
read by an anonymous client (no cookie), the way a phone that scanned the code opens it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.factories import make_inspection, make_user
from tests.helpers import app_test_config, as_, body, events, login
from webapp import calendar, create_app
from webapp.auth.models import Role
from webapp.db import utcnow
from webapp.extensions import limiter
from webapp.inspections.models import CheckResult, Inspection, InspectionStatus, PublishedCategory
from webapp.trace.models import InspectionTrace, TraceRating, TraceReport, TraceScan

CODE = re.compile(r"/c/([A-Za-z0-9_-]{20,64})")


@pytest.fixture
def checked_in(app, scene, db):
    """The lead checks in through the page's form: the check-in makes the inspection's code."""
    phone = _login(app, "lead")
    start = f"/inspections/tasks/{scene.task.public_id}/start"
    resp = as_(phone).post(start, data={"client_uuid": str(uuid.uuid4())})
    assert resp.status_code in (302, 303), body(resp)
    db.session.expire_all()
    return scene, db.session.execute(select(Inspection).where(Inspection.task_id == scene.task.id)).scalar_one()


@pytest.fixture
def code(app, checked_in, db):
    """The token shown on the lead inspector's record page."""
    scene, _insp = checked_in
    phone = _login(app, "lead")
    page = as_(phone).get(f"/inspections/tasks/{scene.task.public_id}/record")
    assert page.status_code == 200
    found = CODE.search(body(page))
    assert found, "the record page shows the code"
    return found.group(1)


def _login(app, username: str):
    """A logged-in browser of its own (the test's app context must not lend it another user)."""
    client = app.test_client()
    login(as_(client), username)
    return client


def _visitor(app, agent: str = "Mozilla/5.0 (iPhone) unit"):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = agent
    return c


def _form_token(page_html: str) -> str:
    return re.search(r'name="form_token" type="hidden" value="([^"]+)"', page_html).group(1)


def _submit(db, insp) -> None:
    insp.status = InspectionStatus.SUBMITTED
    insp.result, insp.category = CheckResult.NO_PROBLEM, PublishedCategory.NO_PROBLEM
    insp.submitted_at = utcnow()
    db.session.commit()


def _rate(client, token: str, **data):
    page = as_(client).get(f"/c/{token}")
    fields = {"form_token": _form_token(body(page)), "visit": "yes", "score": "5", "comment": "", **data}
    return as_(client).post(f"/c/{token}/rating", data=fields)


def _report(client, token: str, text: str, contact: str = ""):
    page = as_(client).get(f"/c/{token}")
    return as_(client).post(
        f"/c/{token}/report", data={"form_token": _form_token(body(page)), "text": text, "contact": contact}
    )


# ------------------------------------------------------------------------------------------ the code


def test_the_check_in_makes_the_code_once_audited_and_the_record_pages_show_it(app, checked_in, code, db):
    scene, insp = checked_in
    trace = db.session.execute(select(InspectionTrace)).scalar_one()
    assert trace.token == code and trace.inspection_id == insp.id and len(code) >= 32
    phone = _login(app, "partner")
    again = as_(phone).get(f"/inspections/tasks/{scene.task.public_id}/record")
    assert f"/c/{code}" in body(again) and "<svg" in body(again)
    assert db.session.scalar(select(func.count(InspectionTrace.id))) == 1
    opened = events(db, "trace.opened")
    assert len(opened) == 1 and opened[0].actor_name == "lead"


def test_no_code_before_check_in(app, scene, db):
    make_inspection(scene.task)  # a record without check-in time
    db.session.commit()
    phone = _login(app, "lead")
    page = as_(phone).get(f"/inspections/tasks/{scene.task.public_id}/record")
    assert page.status_code == 200 and not CODE.search(body(page))
    assert db.session.scalar(select(func.count(InspectionTrace.id))) == 0


# ------------------------------------------------------------------------------------ the public page


def test_in_progress_inspection_is_shown_genuine_with_masked_inspectors(app, checked_in, code, db):
    scene, _insp = checked_in
    resp = as_(_visitor(app)).get(f"/c/{code}")
    html = body(resp)
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Cache-Control"] == "no-store" and "noindex" in resp.headers["X-Robots-Tag"]
    assert "真实有效" in html and "检查进行中" in html
    assert scene.task.unit.name in html and "对单位履行消防安全职责情况的日常监督抽查" in html
    assert "《中华人民共和国消防法》" in html and "疏散通道畅通" in html
    assert "李*国" in html and "赵*刚" in html and "李卫国" not in html and "赵志刚" not in html
    assert "豫消A0001" in html and "证件有效" in html
    assert "12345" in html
    assert 'id="rating-form"' not in html and 'id="report-form"' in html


def test_an_expired_certificate_is_shown_as_such(app, checked_in, code, db):
    scene, _insp = checked_in
    partner = next(a.inspector for a in scene.task.active_assignments if a.role == "assist")
    partner.cert_valid_until = calendar.today() - dt.timedelta(days=1)
    db.session.commit()
    html = body(as_(_visitor(app)).get(f"/c/{code}"))
    assert html.count("证件有效") == 1 and "证件无效或已过期" in html


def test_scans_are_counted_once_per_visitor_and_never_for_the_inspectors(app, checked_in, code, db):
    scene, _insp = checked_in
    unit_phone = _visitor(app)
    for _ in range(3):
        assert as_(unit_phone).get(f"/c/{code}").status_code == 200
    assert as_(_visitor(app, "another phone")).get(f"/c/{code}").status_code == 200
    lead = _login(app, "lead")
    assert as_(lead).get(f"/c/{code}").status_code == 200  # the inspector trying the code: not a scan
    db.session.rollback()
    trace = db.session.execute(select(InspectionTrace)).scalar_one()
    assert trace.scan_count == 2 and trace.last_scan_at is not None
    scans = db.session.execute(select(TraceScan)).scalars().all()
    assert len(scans) == 2 and all(len(s.visitor) == 32 and "127.0.0.1" not in s.visitor for s in scans)
    scanned = events(db, "trace.scanned")
    assert [e.actor_name for e in scanned] == ["public", "public"] and scanned[0].actor_id is None
    page = as_(lead).get(f"/inspections/tasks/{scene.task.public_id}/record")
    assert "已扫码 2 次" in body(page)


def test_an_unknown_code_is_404(app, db):
    for token in ("no-such-code", "x" * 32, "y" * 200):
        resp = as_(_visitor(app)).get(f"/c/{token}")
        assert resp.status_code == 404 and "未找到该检查" in body(resp) and "Set-Cookie" not in resp.headers


# ------------------------------------------------------------------------------------------- rating


def test_after_submission_the_unit_confirms_and_rates_once(app, checked_in, code, db):
    _scene, insp = checked_in
    _submit(db, insp)
    unit = _visitor(app)
    page = body(as_(unit).get(f"/c/{code}"))
    assert "检查已结束" in page and 'id="rating-form"' in page
    sent = _rate(unit, code, score="4", comment="检查认真，联系人王小红电话13812345678")
    assert sent.status_code == 303 and "sent=rating" in sent.headers["Location"]
    after = body(as_(unit).get(f"/c/{code}?sent=rating"))
    assert "感谢您的评价" in after and "本次检查已评价" in after and 'id="rating-form"' not in after
    again = _rate(_visitor(app, "someone else"), code, score="1")
    assert again.status_code == 409 and "只能评价一次" in body(again)
    db.session.rollback()
    (rating,) = db.session.execute(select(TraceRating)).scalars().all()
    assert (rating.score, rating.visit_confirmed) == (4, True)
    (event,) = events(db, "trace.rated")
    assert event.actor_id is None and event.actor_name == "public" and "13812345678" not in event.data


def test_no_rating_while_the_inspection_is_in_progress(app, checked_in, code, db):
    page = body(as_(_visitor(app)).get(f"/c/{code}"))
    resp = as_(_visitor(app)).post(
        f"/c/{code}/rating", data={"form_token": _form_token(page), "visit": "yes", "score": "5"}
    )
    assert resp.status_code == 409 and "检查结束后才能评价" in body(resp)
    assert db.session.scalar(select(func.count(TraceRating.id))) == 0


def test_a_rating_without_a_score_is_refused_next_to_the_field_input_kept(app, checked_in, code, db):
    _scene, insp = checked_in
    _submit(db, insp)
    resp = _rate(_visitor(app), code, score="", comment="态度很好")
    html = body(resp)
    assert resp.status_code == 422 and "请选择满意度" in html and "态度很好" in html
    assert 'id="score-err"' in html and 'aria-describedby="score-err"' in html
    assert db.session.scalar(select(func.count(TraceRating.id))) == 0


# ------------------------------------------------------------------------------------------- reports


def test_a_report_reaches_the_supervisors_only_scrubbed_and_escaped(app, checked_in, code, db):
    _scene, _insp = checked_in
    text = "检查人员李卫国索要好处费，联系人王小红 13812345678 <script>alert(1)</script>"
    sent = _report(_visitor(app), code, text, contact="13900000000")
    assert sent.status_code == 303
    (event,) = events(db, "trace.reported")
    assert event.actor_name == "public" and "好处费" not in event.data
    boss = _login(app, "boss")
    listing = body(as_(boss).get("/trace/feedback?kind=report"))
    assert "好处费" in listing and "李*国" in listing and "138****5678" in listing
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing
    assert "13900000000" in listing  # the reporter's own contact, for the supervisors to call back
    other = _login(app, "otherboss")
    assert "好处费" not in body(as_(other).get("/trace/feedback?kind=report"))
    inspector = _login(app, "lead")
    assert as_(inspector).get("/trace/feedback?kind=report").status_code == 403


def test_a_report_needs_some_text(app, checked_in, code, db):
    resp = _report(_visitor(app), code, "  ")
    assert resp.status_code == 422 and "请写明反映的问题" in body(resp)
    assert db.session.scalar(select(func.count(TraceReport.id))) == 0


def test_inspectors_cannot_see_who_rated_nor_the_rating(app, checked_in, code, db):
    scene, insp = checked_in
    _submit(db, insp)
    assert _rate(_visitor(app), code, score="2", comment="态度生硬").status_code == 303
    assert not {"ip", "address", "user_id", "created_by_id", "visitor"} & set(TraceRating.__table__.columns.keys())
    lead = _login(app, "lead")
    record = body(as_(lead).get(f"/inspections/tasks/{scene.task.public_id}/record"))
    assert "态度生硬" not in record and "满意度" not in record
    assert as_(lead).get("/trace/feedback?kind=rating").status_code == 403
    boss = _login(app, "boss")
    listing = body(as_(boss).get("/trace/feedback?kind=rating"))
    assert "态度生硬" in listing and "不满意" in listing
    dashboard = body(as_(boss).get("/dashboard/"))
    assert "满意度评价与举报" in dashboard and url_in(dashboard, "/trace/feedback")


def url_in(html: str, path: str) -> bool:
    return f'href="{path}' in html


# --------------------------------------------------------------------------------------- CSRF and limits


def test_public_posts_need_the_pages_form_token(app, checked_in, code, db):
    _scene, insp = checked_in
    _submit(db, insp)
    unit = _visitor(app)
    assert as_(unit).post(f"/c/{code}/rating", data={"visit": "yes", "score": "5"}).status_code == 400
    foreign = _form_token(body(as_(unit).get(f"/c/{code}")))
    resp = as_(unit).post("/c/no-such-thing/report", data={"form_token": foreign, "text": "跨页提交的内容"})
    assert resp.status_code == 400 and "表单已过期" in body(resp)
    cross = as_(unit).post(
        f"/c/{code}/report",
        data={"form_token": foreign, "text": "来自其他网站的提交"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 400
    assert db.session.scalar(select(func.count(TraceReport.id))) == 0


@pytest.fixture
def limited(db):
    saved = dict(limiter.__dict__)
    app = create_app(
        {
            **app_test_config(),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_KEY_PREFIX": f"trace-{uuid.uuid4().hex}",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def test_public_posts_are_rate_limited(limited, checked_in, code, db):
    client = limited.test_client()
    statuses = [_report(client, code, f"第{i}次反映的问题内容").status_code for i in range(6)]
    assert statuses[:5] == [303] * 5 and statuses[5] == 429


def test_supervisor_and_admin_see_only_their_own(app, checked_in, code, db, tree):
    _report(_visitor(app), code, "检查人员没有出示证件")
    admin = make_user(tree.zhidui, role=Role.ADMIN, username="root2")
    db.session.commit()
    c = _login(app, admin.username)
    resp = as_(c).get("/trace/feedback?kind=report")
    assert resp.status_code == 200 and "没有出示证件" not in body(resp)
