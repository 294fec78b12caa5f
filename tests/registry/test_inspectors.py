"""执法检查人员名录库 as a supervisor uses it: list, create/edit, certificate and pool, leave, 回避, freeze, import."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.factories import make_inspector, make_org, make_unit, make_user
from webapp import audit
from webapp.audit import AuditEvent
from webapp.auth.models import OrgKind, Role
from webapp.calendar import this_month, today
from webapp.draw.pool import inspector_pool
from webapp.extensions import db as _db
from webapp.registry.imports import queries as import_queries
from webapp.registry.inspectors.columns import INSPECTOR_COLUMNS
from webapp.registry.models import ImportJob, Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability

HX = {"HX-Request": "true"}
HEADERS = [c.header for c in INSPECTOR_COLUMNS]


@pytest.fixture(autouse=True)
def inline_imports(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND", False)


@pytest.fixture
def org(db):
    return make_org(code="yanshi", name="偃师区消防救援大队")


@pytest.fixture
def supervisor(db, org):
    user = make_user(org, username="zhang", display_name="张队长")
    db.session.commit()
    return user


def events(action: str | None = None) -> list[AuditEvent]:
    """Audit events of one action, or of every inspector action (logins are audited too)."""
    which = AuditEvent.action == action if action else AuditEvent.action.startswith("inspector.")
    stmt = select(AuditEvent).where(which).order_by(AuditEvent.id)
    return list(_db.session.execute(stmt).scalars())


def reload(insp: Inspector) -> Inspector:
    _db.session.expire_all()
    return _db.session.get(Inspector, insp.id)


def month() -> tuple[dt.date, dt.date]:
    return this_month()


def pool_for(org) -> tuple[dict, dict]:
    first, last = month()
    pool, excluded = inspector_pool({org.id}, [], first, last)
    return {p["name"]: p for p in pool}, {e["name"]: e for e in excluded}


def form_data(org, **kw) -> dict:
    data = {
        "org_id": str(org.id),
        "name": "李明",
        "post": "专职消防监督员",
        "rank": "四级主办",
        "specialties": "建筑防火，消防设施",
        "cert_no": "豫a-20260001",
        "cert_valid_until": "2030-06-30",
        "can_lead": "y",
        "draw_weight": "",
        "phone": "13800138000",
        "username": "",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


# ----------------------------------------------------------------------------------------- list


def test_list_searches_as_you_type_and_shows_expired_certificates_plainly(client, db, login_as, supervisor, org):
    make_inspector(org, name="王建国", cert_no="豫A0001")
    make_inspector(org, name="王小红", cert_no="豫A0002", cert_valid_until=today() - dt.timedelta(days=1))
    make_inspector(org, name="赵刚", cert_no="豫B0003", status=InspectorStatus.FROZEN, status_reason="调离")
    other = make_org(code="other", name="其他大队")
    make_inspector(other, name="王外人")
    db.session.commit()
    login_as(supervisor)

    page = client.get("/registry/inspectors")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "执法检查人员名录库" in body and 'id="q"' in body
    assert "王建国" in body and "赵刚" in body and "王外人" not in body
    assert "证件已过期 · 不参与抽取" in body

    frag = client.get("/registry/inspectors?q=王", headers=HX)
    text = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in text
    assert "共2人" in text and "王建国" in text and "王小红" in text and "赵刚" not in text

    assert "王建国" in client.get("/registry/inspectors?q=a0001").get_data(as_text=True)  # certificate number
    cert = client.get("/registry/inspectors?pool=cert", headers=HX).get_data(as_text=True)
    assert "王小红" in cert and "王建国" not in cert
    frozen = client.get("/registry/inspectors?status=frozen", headers=HX).get_data(as_text=True)
    assert "赵刚" in frozen and "王建国" not in frozen
    in_pool = client.get("/registry/inspectors?pool=in", headers=HX).get_data(as_text=True)
    assert "王建国" in in_pool and "王小红" not in in_pool and "赵刚" not in in_pool


def test_list_pages_forward(app, client, db, login_as, supervisor, org, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for i in range(5):
        make_inspector(org, name=f"人员{i}")
    db.session.commit()
    login_as(supervisor)
    seen = []
    url = "/registry/inspectors"
    for _ in range(3):
        body = client.get(url).get_data(as_text=True)
        seen += [f"人员{i}" for i in range(5) if f"人员{i}</span>" in body]
        if 'rel="next"' not in body:
            break
        url = body.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert sorted(seen) == [f"人员{i}" for i in range(5)]


# ------------------------------------------------------------------------------- create / edit


def test_create_with_errors_keeps_what_was_typed_and_explains_in_chinese(client, db, login_as, supervisor, org):
    login_as(supervisor)
    resp = client.post(
        "/registry/inspectors/new",
        data=form_data(org, name="", post="厨师", draw_weight="5000", cert_valid_until="明年", phone="123"),
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请填写姓名" in body
    assert "岗位应为：专职消防监督员、兼职消防监督员、消防文员" in body
    assert "抽取权重应为1～1000的整数" in body
    assert "日期格式错误" in body
    assert 'value="5000"' in body and 'value="明年"' in body and 'value="豫a-20260001"' in body
    assert _db.session.execute(select(func.count(Inspector.id))).scalar_one() == 0
    assert events() == []

    # htmx re-renders only the form, still 422
    frag = client.post("/registry/inspectors/new", data=form_data(org, name=""), headers=HX)
    assert frag.status_code == 422 and "<html" not in frag.get_data(as_text=True)
    assert "请填写姓名" in frag.get_data(as_text=True)


def test_create_then_edit_is_audited(client, db, login_as, supervisor, org):
    login_as(supervisor)
    resp = client.post("/registry/inspectors/new", data=form_data(org))
    assert resp.status_code == 303
    insp = _db.session.execute(select(Inspector)).scalar_one()
    assert resp.headers["Location"].endswith(f"/registry/inspectors/{insp.public_id}")
    assert (insp.name, insp.cert_no, insp.specialties, insp.can_lead) == (
        "李明",
        "豫A-20260001",
        "建筑防火、消防设施",
        True,
    )
    assert insp.draw_weight == 150  # default weight of 专职消防监督员
    created = events("inspector.created")
    assert len(created) == 1 and created[0].actor_id == supervisor.id

    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "李明" in detail and "豫A-20260001" in detail and "新增执法检查人员" in detail
    assert "在抽取人员库中" in detail

    edit = client.get(f"/registry/inspectors/{insp.public_id}/edit").get_data(as_text=True)
    assert 'value="豫A-20260001"' in edit

    resp = client.post(
        f"/registry/inspectors/{insp.public_id}/edit",
        data=form_data(org, post="兼职消防监督员", draw_weight="80", can_lead=None, reason="岗位调整"),
    )
    assert resp.status_code == 303
    insp = reload(insp)
    assert (insp.post, insp.draw_weight, insp.can_lead) == ("兼职消防监督员", 80, False)
    (updated,) = events("inspector.updated")
    assert updated.reason == "岗位调整"
    assert updated.payload["post"] == ["专职消防监督员", "兼职消防监督员"]
    assert updated.payload["can_lead"] == [True, False]
    assert audit.verify() == []

    # saving again without a change writes nothing
    client.post(
        f"/registry/inspectors/{insp.public_id}/edit",
        data=form_data(org, post="兼职消防监督员", draw_weight="80", can_lead=None),
    )
    assert len(events("inspector.updated")) == 1


def test_a_certificate_number_is_registered_once(client, db, login_as, supervisor, org):
    make_inspector(org, name="先登记的人", cert_no="豫A-20260001")
    db.session.commit()
    login_as(supervisor)
    resp = client.post("/registry/inspectors/new", data=form_data(org, cert_no="豫a-20260001"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "该执法证件号已登记为" in body and "先登记的人" in body


def test_login_account_must_be_an_inspector_account(client, db, login_as, supervisor, org):
    account = make_user(org, role=Role.INSPECTOR, username="li.ming")
    db.session.commit()
    login_as(supervisor)
    resp = client.post("/registry/inspectors/new", data=form_data(org, username="zhang"))
    assert resp.status_code == 422 and "不是执法检查人员账号" in resp.get_data(as_text=True)
    resp = client.post("/registry/inspectors/new", data=form_data(org, username="li.ming"))
    assert resp.status_code == 303
    assert _db.session.execute(select(Inspector)).scalar_one().user_id == account.id


# ------------------------------------------------------------------------------- certificate and pool


def test_an_expired_certificate_takes_the_person_out_of_the_pool_by_itself(client, db, login_as, supervisor, org):
    first, last = month()
    ok = make_inspector(org, name="有效证件", cert_valid_until=last + dt.timedelta(days=400))
    expired = make_inspector(org, name="过期证件", cert_valid_until=first - dt.timedelta(days=1))
    make_inspector(org, name="本月到期", cert_valid_until=first)
    make_inspector(org, name="无证件", cert_no=None, cert_valid_until=None)
    db.session.commit()

    pool, excluded = pool_for(org)
    assert set(pool) == {"有效证件"}
    assert excluded["过期证件"]["reasons"] == ["cert_expired"]
    assert excluded["本月到期"]["reasons"] == ["cert_expires_in_period"]
    assert excluded["无证件"]["reasons"] == ["cert_missing"]
    assert pool["有效证件"]["id"] == ok.public_id
    assert reload(expired).status == InspectorStatus.ACTIVE  # nothing was changed: the date alone decides

    login_as(supervisor)
    body = client.get(f"/registry/inspectors/{expired.public_id}").get_data(as_text=True)
    assert "不参与抽取" in body and "执法证件已过期" in body and "已过期" in body


# ----------------------------------------------------------------------------------------- unavailability


def test_unavailability_periods_are_added_with_a_reason_and_cancelled_with_one(client, db, login_as, supervisor, org):
    insp = make_inspector(org, name="请假的人", cert_valid_until=dt.date(2099, 1, 1))
    db.session.commit()
    login_as(supervisor)
    first, last = month()
    url = f"/registry/inspectors/{insp.public_id}/unavailable"

    resp = client.post(
        url, data={"start_date": last.isoformat(), "end_date": first.isoformat(), "reason": ""}, headers=HX
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" not in body
    assert "结束日期不能早于开始日期" in body and "请填写不可抽取的原因" in body
    assert f'value="{last.isoformat()}"' in body
    assert _db.session.execute(select(func.count(InspectorUnavailability.id))).scalar_one() == 0

    resp = client.post(url, data={"start_date": first.isoformat(), "end_date": first.isoformat(), "reason": "年休假"})
    assert resp.status_code == 303
    pool, _excluded = pool_for(org)
    assert pool["请假的人"]["unavailable"] == [first.isoformat()]

    resp = client.post(url, data={"start_date": first.isoformat(), "end_date": last.isoformat(), "reason": "借调市局"})
    assert resp.status_code == 303
    _pool, excluded = pool_for(org)
    assert excluded["请假的人"]["reasons"] == ["unavailable_all_period"]
    detail = client.get(f"/registry/inspectors/{insp.public_id}").get_data(as_text=True)
    assert "借调市局" in detail and "整个抽取期间请假或借调" in detail  # the draw's label of the reason code

    period = _db.session.execute(
        select(InspectorUnavailability).where(InspectorUnavailability.reason == "借调市局")
    ).scalar_one()
    cancel = f"/registry/inspectors/{insp.public_id}/unavailable/{period.id}/cancel"
    resp = client.post(cancel, data={"reason": ""}, headers=HX)
    assert resp.status_code == 422 and "请填写取消原因" in resp.get_data(as_text=True)
    resp = client.post(cancel, data={"reason": "借调取消"})
    assert resp.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(InspectorUnavailability, period.id).cancelled is True  # kept, not deleted
    pool, _excluded = pool_for(org)
    assert "请假的人" in pool
    detail = client.get(f"/registry/inspectors/{insp.public_id}").get_data(as_text=True)
    assert "已取消" in detail and "借调取消" in detail
    assert len(events("inspector.unavailable_added")) == 2
    (cancelled,) = events("inspector.unavailable_cancelled")
    assert cancelled.reason == "借调取消"
    assert (
        client.post(
            f"/registry/inspectors/{insp.public_id}/unavailable/999999/cancel", data={"reason": "x"}
        ).status_code
        == 404
    )


# ---------------------------------------------------------------------------------------------- conflicts


def test_conflicts_are_declared_through_a_unit_picker_and_withdrawn_with_a_reason(
    client, db, login_as, supervisor, org
):
    insp = make_inspector(org, name="回避的人", cert_valid_until=dt.date(2099, 1, 1))
    unit = make_unit(org, name="偃师区华联超市有限公司")
    make_unit(org, name="偃师区人民医院")
    other = make_org(code="other", name="其他大队")
    make_unit(other, name="孟津区华联超市有限公司")
    db.session.commit()
    login_as(supervisor)
    base = f"/registry/inspectors/{insp.public_id}"

    options = client.get(f"{base}/units?q=华联", headers=HX)
    text = options.get_data(as_text=True)
    assert options.status_code == 200 and "<html" not in text
    assert "偃师区华联超市有限公司" in text and unit.public_id in text
    assert "孟津区华联超市有限公司" not in text and "人民医院" not in text

    resp = client.post(f"{base}/conflicts", data={"q": "华联", "reason": ""}, headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请从列表中选择单位" in body and "请填写利害关系" in body and 'value="华联"' in body

    resp = client.post(f"{base}/conflicts", data={"q": "华联", "unit": unit.public_id, "reason": "配偶在该单位任职"})
    assert resp.status_code == 303
    pool, _excluded = pool_for(org)
    assert pool["回避的人"]["conflicts"] == [unit.public_id]
    detail = client.get(base).get_data(as_text=True)
    assert "偃师区华联超市有限公司" in detail and "配偶在该单位任职" in detail

    again = client.post(f"{base}/conflicts", data={"unit": unit.public_id, "reason": "重复"}, headers=HX)
    assert again.status_code == 422 and "已登记与“偃师区华联超市有限公司”的利害关系" in again.get_data(as_text=True)

    conflict = _db.session.execute(select(InspectorConflict)).scalar_one()
    withdraw = f"{base}/conflicts/{conflict.id}/withdraw"
    resp = client.post(withdraw, data={"reason": ""}, headers=HX)
    assert resp.status_code == 422 and "请填写撤销原因" in resp.get_data(as_text=True)
    resp = client.post(withdraw, data={"reason": "配偶已离职"})
    assert resp.status_code == 303
    pool, _excluded = pool_for(org)
    assert pool["回避的人"]["conflicts"] == []
    detail = client.get(base).get_data(as_text=True)
    assert "已撤销" in detail and "配偶已离职" in detail

    # declared again later: the same row becomes active again
    assert client.post(f"{base}/conflicts", data={"unit": unit.public_id, "reason": "又入职"}).status_code == 303
    assert _db.session.execute(select(func.count(InspectorConflict.id))).scalar_one() == 1
    assert len(events("inspector.conflict_declared")) == 2
    assert [e.reason for e in events("inspector.conflict_withdrawn")] == ["配偶已离职"]


def test_a_unit_of_another_organisation_cannot_be_picked(client, db, login_as, supervisor, org):
    insp = make_inspector(org)
    other = make_org(code="other", name="其他大队")
    foreign = make_unit(other, name="外单位")
    db.session.commit()
    login_as(supervisor)
    resp = client.post(
        f"/registry/inspectors/{insp.public_id}/conflicts", data={"unit": foreign.public_id, "reason": "亲属"}
    )
    assert resp.status_code == 422 and "请从列表中选择单位" in resp.get_data(as_text=True)
    assert _db.session.execute(select(func.count(InspectorConflict.id))).scalar_one() == 0


# ------------------------------------------------------------------------------------------------ freeze


def test_freezing_needs_a_reason_and_takes_the_person_out_of_the_pool(client, db, login_as, supervisor, org):
    insp = make_inspector(org, name="被冻结的人", cert_valid_until=dt.date(2099, 1, 1))
    db.session.commit()
    login_as(supervisor)
    url = f"/registry/inspectors/{insp.public_id}/freeze"

    resp = client.post(url, data={"reason": "  "}, headers=HX)
    assert resp.status_code == 422 and "请填写冻结原因" in resp.get_data(as_text=True)
    assert reload(insp).status == InspectorStatus.ACTIVE

    assert client.post(url, data={"reason": "调离执法岗位"}).status_code == 303
    insp = reload(insp)
    assert (insp.status, insp.status_reason) == (InspectorStatus.FROZEN, "调离执法岗位")
    _pool, excluded = pool_for(org)
    assert excluded["被冻结的人"]["reasons"] == ["frozen"]
    detail = client.get(f"/registry/inspectors/{insp.public_id}").get_data(as_text=True)
    assert "已冻结" in detail and "调离执法岗位" in detail and "确认解冻" in detail
    assert "已冻结：被冻结的人，不再参与抽取" in detail  # the flash names the person (it printed "%(name)s")

    resp = client.post(url, data={"reason": ""}, headers=HX)
    assert resp.status_code == 422 and "请填写解冻原因" in resp.get_data(as_text=True)
    assert client.post(url, data={"reason": "回到执法岗位"}).status_code == 303
    assert reload(insp).status == InspectorStatus.ACTIVE
    assert "已解冻：被冻结的人" in client.get(f"/registry/inspectors/{insp.public_id}").get_data(as_text=True)
    pool, _excluded = pool_for(org)
    assert "被冻结的人" in pool
    assert [(e.action, e.reason) for e in events()] == [
        ("inspector.frozen", "调离执法岗位"),
        ("inspector.unfrozen", "回到执法岗位"),
    ]


# ------------------------------------------------------------------------------------------------ import


def xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(**values) -> list:
    return [values.get(h) for h in HEADERS]


def upload(client, data: bytes, org, filename: str = "inspectors.xlsx"):
    form = {"file": (io.BytesIO(data), filename), "org_id": str(org.id)}
    return client.post("/registry/inspectors/import", data=form, content_type="multipart/form-data")


def latest_job() -> ImportJob:
    _db.session.expire_all()
    return _db.session.execute(select(ImportJob).order_by(ImportJob.id.desc()).limit(1)).scalar_one()


def inspector_count() -> int:
    return _db.session.execute(select(func.count(Inspector.id))).scalar_one()


def test_import_commits_all_rows_or_none_and_lists_row_errors(client, db, login_as, supervisor, org):
    make_user(org, role=Role.INSPECTOR, username="wang.jg")
    db.session.commit()
    login_as(supervisor)
    page = client.get("/registry/inspectors/import").get_data(as_text=True)
    assert "执法检查人员名录库" in page and "执法证件号" in page and "/registry/inspectors/template.xlsx" in page

    rows = [
        HEADERS,
        row(
            姓名="王建国",
            岗位="专职消防监督员",
            执法证件号="豫A1001",
            证件有效期至="2030/6/30",
            可任主办="是",
            登录账号="wang.jg",
        ),
        row(姓名="刘芳", 岗位="厨师", 执法证件号="豫A1002"),  # row 3: unknown post
        row(姓名="", 岗位="消防文员", 执法证件号="豫A1003"),  # row 4: no name
        row(姓名="陈静", 岗位="消防文员", 执法证件号="豫A1001"),  # row 5: same certificate as row 2
        row(姓名="周强", 岗位="兼职消防监督员", 执法证件号="豫A1005", 抽取权重="0"),  # row 6: weight
    ]
    resp = upload(client, xlsx(rows), org)
    assert resp.status_code == 302
    body = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "未导入任何数据" in body and "岗位应为" in body and "请填写姓名" in body
    job = latest_job()
    errors, _warnings = import_queries.job_entries(job)
    assert [(e["row"], e["column"]) for e in errors] == [(3, "岗位"), (4, "姓名"), (5, "执法证件号"), (6, "抽取权重")]
    assert job.status == "failed" and inspector_count() == 0
    assert events("import.inspectors") == []

    rows[2] = row(姓名="刘芳", 岗位="兼职消防监督员", 执法证件号="豫A1002")
    rows[3] = row(姓名="孙丽", 岗位="消防文员", 执法证件号="豫A1003")
    rows[4] = row(姓名="陈静", 岗位="消防文员", 执法证件号="豫A1004")
    rows[5] = row(姓名="周强", 岗位="兼职消防监督员", 执法证件号="豫A1005", 抽取权重="90")
    resp = upload(client, xlsx(rows), org)
    job = latest_job()
    assert job.status == "done", job.errors
    assert (job.created_count, job.updated_count) == (5, 0)
    wang = _db.session.execute(select(Inspector).where(Inspector.name == "王建国")).scalar_one()
    assert (wang.cert_valid_until, wang.can_lead, wang.draw_weight) == (dt.date(2030, 6, 30), True, 150)
    assert wang.user_id is not None and wang.org_id == org.id
    assert len(events("import.inspectors")) == 1

    # a second file with the same certificate numbers updates instead of duplicating
    resp = upload(
        client,
        xlsx([HEADERS, row(姓名="王建国", 岗位="专职消防监督员", 执法证件号="豫a1001", 职务职级=None, 抽取权重="200")]),
        org,
    )
    job = latest_job()
    assert job.status == "done", job.errors
    assert (job.created_count, job.updated_count) == (0, 1)
    assert inspector_count() == 5
    assert reload(wang).draw_weight == 200
    assert audit.verify() == []


def test_the_inspector_template_downloads(client, db, login_as, supervisor):
    login_as(supervisor)
    resp = client.get("/registry/inspectors/template.xlsx")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0]
    first = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert first[: len(HEADERS)] == HEADERS
    csv = client.get("/registry/inspectors/template.csv")
    assert csv.status_code == 200 and "执法证件号" in csv.data.decode("utf-8-sig")


# ---------------------------------------------------------------------------------------------- access


def test_a_supervisor_of_another_organisation_gets_404(client, db, login_as, org):
    insp = make_inspector(org)
    unit = make_unit(org)
    period = InspectorUnavailability(
        inspector_id=insp.id, start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 1, 2), reason="休假"
    )
    conflict = InspectorConflict(inspector_id=insp.id, unit_id=unit.id, reason="亲属")
    db.session.add_all([period, conflict])
    stranger = make_user(make_org(code="other", name="其他大队"))
    db.session.commit()
    login_as(stranger)
    base = f"/registry/inspectors/{insp.public_id}"
    for url in (base, f"{base}/edit", f"{base}/units?q=测试"):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"{base}/edit", form_data(org)),
        (f"{base}/freeze", {"reason": "x"}),
        (f"{base}/unavailable", {"start_date": "2030-02-01", "end_date": "2030-02-02", "reason": "x"}),
        (f"{base}/unavailable/{period.id}/cancel", {"reason": "x"}),
        (f"{base}/conflicts", {"unit": unit.public_id, "reason": "x"}),
        (f"{base}/conflicts/{conflict.id}/withdraw", {"reason": "x"}),
    ):
        assert client.post(url, data=data).status_code == 404, url
    assert client.post("/registry/inspectors/new", data=form_data(org)).status_code == 422  # not their org
    assert "测试" not in client.get("/registry/inspectors").get_data(as_text=True).split("共")[1][:3]
    assert reload(insp).status == InspectorStatus.ACTIVE
    assert events() == []


def test_a_parent_organisation_supervisor_manages_its_brigades_inspectors(client, db, login_as):
    zhidui = make_org(code="ly", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    dadui = make_org(code="ys", name="偃师区消防救援大队", parent=zhidui)
    insp = make_inspector(dadui, name="下级人员")
    boss = make_user(zhidui)
    db.session.commit()
    login_as(boss)
    assert client.get(f"/registry/inspectors/{insp.public_id}").status_code == 200
    body = client.get("/registry/inspectors").get_data(as_text=True)
    assert "下级人员" in body and 'id="f-org"' in body


def test_inspectors_get_403_and_anonymous_users_go_to_login(client, db, login_as, org):
    insp = make_inspector(org)
    inspector = make_user(org, role=Role.INSPECTOR)
    db.session.commit()
    base = f"/registry/inspectors/{insp.public_id}"
    gets = ["/registry/inspectors", "/registry/inspectors/new", base, f"{base}/edit", f"{base}/units?q=x"]
    posts = [f"{base}/freeze", f"{base}/unavailable", f"{base}/conflicts", "/registry/inspectors/new"]
    for url in gets:
        assert client.get(url).status_code == 302, url
    login_as(inspector)
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, data={"reason": "x"}).status_code == 403, url
    assert events() == []


def test_import_refuses_an_account_linked_to_another_person(client, db, login_as, supervisor, org):
    account = make_user(org, role=Role.INSPECTOR, username="li.ming")
    make_inspector(org, name="已关联的人", user=account, cert_no="豫A9999")
    db.session.commit()
    login_as(supervisor)
    rows = [HEADERS, row(姓名="新人", 岗位="消防文员", 执法证件号="豫A1001", 登录账号="li.ming")]
    upload(client, xlsx(rows), org)
    job = latest_job()
    errors, _warnings = import_queries.job_entries(job)
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in errors] == [(2, "登录账号")]
    assert "已关联执法检查人员：已关联的人" in errors[0]["message"]
    assert inspector_count() == 1

    # the person who holds the account may be updated by their certificate number
    rows = [HEADERS, row(姓名="已关联的人", 岗位="消防文员", 执法证件号="豫A9999", 登录账号="li.ming")]
    upload(client, xlsx(rows), org)
    job = latest_job()
    assert job.status == "done", job.errors
    assert (job.created_count, job.updated_count) == (0, 1)


def test_two_rows_with_one_account_are_reported_as_a_row_error(client, db, login_as, supervisor, org):
    make_user(org, role=Role.INSPECTOR, username="li.ming")
    db.session.commit()
    login_as(supervisor)
    rows = [
        HEADERS,
        row(姓名="甲", 岗位="消防文员", 执法证件号="豫A1001", 登录账号="li.ming"),
        row(姓名="乙", 岗位="消防文员", 执法证件号="豫A1002", 登录账号="li.ming"),
    ]
    upload(client, xlsx(rows), org)
    job = latest_job()
    assert job.status == "failed"
    errors, _warnings = import_queries.job_entries(job)
    assert [(e["row"], e["column"], e["message"]) for e in errors] == [(3, "登录账号", "与第2行重复")]
    assert inspector_count() == 0


def test_import_cannot_link_an_account_of_an_organisation_the_supervisor_does_not_manage(
    client, db, login_as, supervisor, org
):
    elsewhere = make_org(name="伊川县消防救援大队")
    make_user(elsewhere, role=Role.INSPECTOR, username="far.away")
    db.session.commit()
    login_as(supervisor)
    upload(client, xlsx([HEADERS, row(姓名="甲", 岗位="消防文员", 执法证件号="豫A1001", 登录账号="far.away")]), org)
    job = latest_job()
    errors, _warnings = import_queries.job_entries(job)
    assert [(e["row"], e["column"]) for e in errors] == [(2, "登录账号")]
    assert "无权管理" in errors[0]["message"]
    assert inspector_count() == 0


def test_the_detail_page_forms_have_unique_field_ids(client, db, login_as, supervisor, org):
    import re

    insp = make_inspector(org)
    unit = make_unit(org)
    db.session.add(InspectorConflict(inspector_id=insp.id, unit_id=unit.id, reason="亲属"))
    db.session.add(
        InspectorUnavailability(
            inspector_id=insp.id, start_date=dt.date(2099, 1, 1), end_date=dt.date(2099, 1, 2), reason="休假"
        )
    )
    db.session.commit()
    login_as(supervisor)
    body = client.get(f"/registry/inspectors/{insp.public_id}").get_data(as_text=True)
    ids = [i for i in re.findall(r' id="([^"]+)"', body) if i != "csrf_token"]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for label_for in re.findall(r'<label for="([^"]+)"', body):
        assert label_for in ids, label_for


def test_htmx_actions_on_the_detail_page_reload_it(client, db, login_as, supervisor, org):
    """An HX-Redirect to the same page plus a #fragment would only scroll: the page must really reload."""
    insp = make_inspector(org)
    db.session.commit()
    login_as(supervisor)
    base = f"/registry/inspectors/{insp.public_id}"
    resp = client.post(
        f"{base}/unavailable", data={"start_date": "2099-01-01", "end_date": "2099-01-02", "reason": "休假"}, headers=HX
    )
    assert resp.status_code == 200 and resp.headers.get("HX-Refresh") == "true"
    resp = client.post(
        f"{base}/unavailable", data={"start_date": "2099-02-01", "end_date": "2099-02-02", "reason": "培训"}
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"{base}#unavailability")
    page = client.get(base).get_data(as_text=True)
    assert "已登记不可抽取期间" in page and "培训" in page
