"""检查对象类型: a unit is a 社会单位 unless someone says otherwise — on the form, in an import file (by its Chinese
name) — and the unit library filters by it."""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from sqlalchemy import select

from tests.factories import make_org, make_unit, make_user
from tests.helpers import body
from webapp.audit import AuditEvent
from webapp.extensions import db as _db
from webapp.registry.imports import queries as import_queries
from webapp.registry.models import ImportJob, ObjectType, Unit
from webapp.registry.units.columns import UNIT_COLUMNS, clean_unit
from webapp.registry.validation import generate_uscc

HEADERS = [c.header for c in UNIT_COLUMNS]
_rng = random.Random(11)


@pytest.fixture(autouse=True)
def inline_imports(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND", False)


@pytest.fixture
def supervisor(db):
    org = make_org(code="yanshi", name="偃师区消防救援大队")
    user = make_user(org, username="zhang", display_name="张队长")
    db.session.commit()
    return user


def xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(name: str, **extra) -> list:
    values = {"单位名称": name, "统一社会信用代码": generate_uscc(_rng), "地址": "偃师区商城路1号", **extra}
    return [values.get(h) for h in HEADERS]


def upload(client, data: bytes, org):
    form = {"file": (io.BytesIO(data), "units.xlsx"), "org_id": str(org.id)}
    return client.post("/registry/units/import", data=form, content_type="multipart/form-data")


def latest_job() -> ImportJob:
    _db.session.expire_all()
    return _db.session.execute(select(ImportJob).order_by(ImportJob.id.desc()).limit(1)).scalar_one()


def unit_named(name: str) -> Unit:
    return _db.session.execute(select(Unit).where(Unit.name == name)).scalar_one()


# ---------------------------------------------------------------------------------------------- rules


def test_a_unit_is_a_social_unit_unless_told_otherwise():
    values, errors = clean_unit({"name": "老街饭店"})
    assert not errors and values["object_type"] == ObjectType.SOCIAL_UNIT
    for spelling in ("消防技术服务机构", "社会消防技术服务机构", "tech_service"):
        values, errors = clean_unit({"name": "安泰消防", "object_type": spelling})
        assert not errors and values["object_type"] == ObjectType.TECH_SERVICE, spelling


def test_an_unknown_object_type_is_refused_in_chinese():
    _values, errors = clean_unit({"name": "安泰消防", "object_type": "维保公司"})
    assert errors["object_type"] == "检查对象类型应为：社会单位、消防技术服务机构、人防工程及相关单位"


def test_a_partial_update_without_the_type_leaves_it_alone():
    values, errors = clean_unit({"name": "安泰消防"}, partial=True)
    assert not errors and "object_type" not in values


# --------------------------------------------------------------------------------------------- import


def test_the_import_reads_the_type_by_its_chinese_name_and_reports_errors_next_to_the_row(
    client, db, login_as, supervisor
):
    login_as(supervisor)
    org = supervisor.org
    rows = [
        HEADERS,
        row("洛阳安泰消防技术服务有限公司", 检查对象类型="消防技术服务机构"),
        row("老街饭店", 检查对象类型="社会单位"),
        row("金剪理发店"),  # blank: 社会单位
        row("恒安消防检测", 检查对象类型="检测公司"),  # row 5: unknown type
    ]
    resp = upload(client, xlsx(rows), org)
    assert resp.status_code == 302
    page = body(client.get(resp.headers["Location"]))
    assert "检查对象类型应为：社会单位、消防技术服务机构、人防工程及相关单位" in page
    errors, _warnings = import_queries.job_entries(latest_job())
    assert [(e["row"], e["column"]) for e in errors] == [(5, "检查对象类型")]
    assert db.session.execute(select(Unit)).first() is None  # all or nothing

    rows[4] = row("恒安消防检测", 检查对象类型="消防技术服务机构")
    # the header may be an alias of the column
    rows[0] = [("对象类型" if h == "检查对象类型" else h) for h in HEADERS]
    resp = upload(client, xlsx(rows), org)
    assert latest_job().status == "done", latest_job().errors
    assert unit_named("洛阳安泰消防技术服务有限公司").object_type == ObjectType.TECH_SERVICE
    assert unit_named("恒安消防检测").object_type == ObjectType.TECH_SERVICE
    assert unit_named("老街饭店").object_type == ObjectType.SOCIAL_UNIT
    assert unit_named("金剪理发店").object_type == ObjectType.SOCIAL_UNIT


def test_the_export_writes_the_chinese_label_and_imports_again(client, db, login_as, supervisor):
    make_unit(supervisor.org, "洛阳安泰消防技术服务有限公司", object_type=ObjectType.TECH_SERVICE)
    db.session.commit()
    login_as(supervisor)
    resp = client.get("/registry/units/export.xlsx")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0]
    sheet = [list(r) for r in ws.iter_rows(values_only=True)]
    col = sheet[0].index("检查对象类型")
    assert sheet[1][col] == "消防技术服务机构"


def test_the_template_explains_the_column(client, db, login_as, supervisor):
    login_as(supervisor)
    assert "检查对象类型" in body(client.get("/registry/units/import"))


# ----------------------------------------------------------------------------------- form, page, list


def test_the_unit_form_sets_the_type_and_the_change_is_audited(client, db, login_as, supervisor):
    unit = make_unit(supervisor.org, "洛阳安泰消防技术服务有限公司")
    db.session.commit()
    login_as(supervisor)
    form = body(client.get(f"/registry/units/{unit.public_id}/edit"))
    assert 'name="object_type"' in form and "消防技术服务机构" in form
    data = {
        "org_id": str(unit.org_id),
        "name": unit.name,
        "uscc": unit.uscc,
        "address": unit.address,
        "region": unit.region,
        "safety_person": unit.safety_person,
        "object_type": "tech_service",
        "unit_class": "general",
        "risk_level": "blue",
        "credit_level": "normal",
        "complaint_count": "0",
        "reason": "核实为消防设施维保机构",
    }
    resp = client.post(f"/registry/units/{unit.public_id}/edit", data=data)
    assert resp.status_code in (302, 303), body(resp)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).object_type == ObjectType.TECH_SERVICE
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "unit.updated")).scalar_one()
    assert "object_type" in event.data
    page = body(client.get(f"/registry/units/{unit.public_id}"))
    assert "检查对象类型" in page and "消防技术服务机构" in page


def test_a_new_unit_is_a_social_unit_by_default(client, db, login_as, supervisor):
    login_as(supervisor)
    form = body(client.get("/registry/units/new"))
    assert '<option selected value="social_unit">' in form or 'value="social_unit" selected' in form


def test_the_unit_library_filters_by_type(client, db, login_as, supervisor):
    org = supervisor.org
    make_unit(org, "老街饭店")
    make_unit(org, "洛阳安泰消防技术服务有限公司", object_type=ObjectType.TECH_SERVICE)
    make_unit(org, "偃师区恒安消防设施检测有限公司", object_type=ObjectType.TECH_SERVICE)
    db.session.commit()
    login_as(supervisor)
    page = body(client.get("/registry/units?object_type=tech_service"))
    assert "共2个单位" in page
    assert "洛阳安泰消防技术服务有限公司" in page and "老街饭店" not in page
    page = body(client.get("/registry/units?object_type=social_unit"))
    assert "共1个单位" in page and "老街饭店" in page
    assert "共3个单位" in body(client.get("/registry/units?object_type=nonsense"))  # unknown: any type
    full = body(client.get("/registry/units"))
    assert 'name="object_type"' in full and "全部对象类型" in full
