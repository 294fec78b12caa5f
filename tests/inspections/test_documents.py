"""The inspection's documents, read back with poppler: 《行政检查通知书》, and the joint check form (检查表,
seed 002) in three copies on three pages; the PDF routes."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from tests.documents.poppler import flat, pages, pdf_info, pdf_text, poppler
from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
from tests.helpers import login, new_uuid, sign_all, signer_keys
from webapp.auth.models import Role
from webapp.catalog.models import ChecklistPoint, ItemVersion
from webapp.documents import DocumentError
from webapp.documents.pdf import Inspector
from webapp.inspections.documents import (
    CheckedPoint,
    CheckForm,
    FoundProblem,
    InspectionNotice,
    SignatureBox,
    check_form_pdf,
    default_copy_labels,
    inspection_notice_pdf,
)
from webapp.inspections.models import Inspection

FIRE = "洛阳市偃师区消防救援大队"
MARKET = "洛阳市偃师区市场监督管理局"
HX = {"HX-Request": "true"}


def signature_png(width: int = 340, height: int = 200) -> bytes:
    im = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(im).line([(20, 150), (80, 40), (140, 160), (220, 50), (300, 140)], fill="black", width=4)
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def form(**changes) -> CheckForm:
    data = {
        "title": "偃师区2026年消防产品质量监督“双随机、一公开”联合执法检查表",
        "unit_name": "洛阳市偃师区顺达五金交电有限公司",
        "uscc": "91410381MA44XXXX1K",
        "legal_rep": "王建设",
        "address": "偃师区商都路18号",
        "check_date": dt.date(2026, 7, 15),
        "inspectors": (
            Inspector("张建国", FIRE, "豫消4103001234"),
            Inspector("李红梅", MARKET, "豫市监4103005678"),
        ),
        "points": (
            CheckedPoint(MARKET, "营业执照登记事项", "符合"),
            CheckedPoint(FIRE, "消防产品使用情况", "不符合", note="灭火器压力不足"),
            CheckedPoint(FIRE, "自动消防设施", "不适用"),
        ),
        "problems": (FoundProblem("二层灭火器压力不足", "《中华人民共和国消防法》第十六条"),),
        "result": "责令限期改正",
        "category": "发现问题已责令改正",
        "remarks": "现场已告知",
        "signatures": (
            SignatureBox("被检查单位随同人员", "王小明", png=signature_png()),
            SignatureBox("执法检查人员", "张建国", png=signature_png(400, 120)),
            SignatureBox("执法检查人员", "李红梅", refused_reason=""),
        ),
        "record_hash": "ab" * 32,
        "copy_labels": default_copy_labels([FIRE, MARKET]),
    }
    data.update(changes)
    return CheckForm(**data)


def page_texts(pdf: bytes, tmp_path) -> list[str]:
    return [flat(t) for t in pdf_text(pdf, tmp_path).split("\f") if t.strip()]


def image_rows(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "images.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([poppler("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.split()[2:3] == ["image"]]


def test_three_copies_on_three_pages_each_with_everything(tmp_path):
    pdf = check_form_pdf(form())
    assert pages(pdf_info(pdf, tmp_path)) == 3
    texts = page_texts(pdf, tmp_path)
    assert len(texts) == 3
    labels = ["第一联洛阳市偃师区消防救援大队存档", "第二联洛阳市偃师区市场监督管理局存档", "第三联交被检查单位"]
    for n, text in enumerate(texts):
        assert labels[n] in text and all(other not in text for other in labels if other != labels[n])
        assert "洛阳市偃师区顺达五金交电有限公司" in text and "91410381MA44XXXX1K" in text and "王建设" in text
        assert "检查时间：2026年7月15日" in text
        assert "张建国" in text and "豫市监4103005678" in text
        # each point with its department and answer
        assert "营业执照登记事项符合" in text
        assert "消防产品使用情况说明：灭火器压力不足不符合" in text
        assert "自动消防设施不适用" in text
        assert "1.二层灭火器压力不足（《中华人民共和国消防法》第十六条）" in text
        assert "检查结果责令限期改正" in text and "发现问题已责令改正" in text
        assert "现场已告知" in text and "一式三份" in text
        assert "被检查单位随同人员：王小明" in text
        assert "ab" * 32 in text


def test_signature_images_are_embedded_on_every_copy(tmp_path):
    rows = image_rows(check_form_pdf(form()), tmp_path)
    # two signatures drawn (the third signer has none) on each of the three pages
    assert sorted(int(r[0]) for r in rows) == [1, 1, 2, 2, 3, 3]
    assert {(r[3], r[4]) for r in rows} == {("340", "200"), ("400", "120")}
    unsigned = image_rows(check_form_pdf(form(signatures=(SignatureBox("执法检查人员", "张建国"),))), tmp_path)
    assert unsigned == []


def test_refusal_to_sign_is_printed(tmp_path):
    refused = SignatureBox("被检查单位随同人员", "王小明", refused_reason="负责人不在场")
    pdf = check_form_pdf(form(signatures=(refused,)))
    assert all("拒绝签字：负责人不在场" in t for t in page_texts(pdf, tmp_path))


def test_no_problems_prints_none_and_single_department_copies(tmp_path):
    pdf = check_form_pdf(
        form(problems=(), result="未发现问题", category="未发现问题", copy_labels=default_copy_labels([FIRE]))
    )
    texts = page_texts(pdf, tmp_path)
    assert len(texts) == 3
    assert all("发现问题无" in t and "检查结果未发现问题" in t for t in texts)
    assert ["第一联存档" in texts[0], "第二联交被检查单位" in texts[1], "第三联随案卷备查" in texts[2]] == [True] * 3


@pytest.mark.parametrize(
    "changes",
    [{"unit_name": " "}, {"points": ()}, {"copy_labels": ("第一联", "第二联")}, {"copy_labels": ("a", "b", " ")}],
)
def test_incomplete_form_is_refused(changes):
    with pytest.raises(DocumentError):
        check_form_pdf(form(**changes))


# ------------------------------------------------------------------------------------------ the route


def _url(task, name=""):
    return f"/inspections/tasks/{task.public_id}{name}"


def _submit(client, db, sc) -> None:
    login(client, "lead")
    assert client.post(_url(sc.task, "/start"), data={"client_uuid": new_uuid()}).status_code == 303
    cu = db.session.execute(select(Inspection.client_uuid).where(Inspection.task_id == sc.task.id)).scalar_one()
    for p, answer in zip(sc.points, ["complies", "fails", "na"], strict=True):
        r = client.post(_url(sc.task, f"/answers/{p.id}"), data={"answer": answer, "note": ""}, headers=HX)
        assert r.status_code == 200
    finding = {"text": "灭火器压力不足", "legal_basis": "《中华人民共和国消防法》第十六条"}
    finding["point_id"] = sc.points[1].id
    assert client.post(_url(sc.task, "/findings"), data=finding, headers=HX).status_code == 200
    client.post(_url(sc.task, "/partner"))
    data = {"client_uuid": cu, "result": "deadline", "category": "ordered_rectify"}
    assert client.post(_url(sc.task, "/result"), data=data).status_code == 303
    sign_all(client, sc.task, signer_keys(sc.task))
    r = client.post(_url(sc.task, "/submit"), data=data, headers=HX)
    assert r.status_code == 200, r.get_data(as_text=True)


def test_assigned_inspector_prints_the_submitted_record(client, db, request, tmp_path):
    sc = request.getfixturevalue("scene")
    login(client, "lead")
    client.post(_url(sc.task, "/start"), data={"client_uuid": new_uuid()})
    assert client.get(_url(sc.task, "/check-form.pdf")).status_code == 404  # a draft is not printed
    client.post("/logout")
    _submit(client, db, sc)
    page = client.get(_url(sc.task, "/record")).get_data(as_text=True)
    assert "/check-form.pdf" in page and "打印检查表" in page
    assert "/notices/new/" in page and "制发整改文书" in page  # result 责令限期改正: the order comes next
    resp = client.get(_url(sc.task, "/check-form.pdf"))
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    pdf = resp.data
    assert pages(pdf_info(pdf, tmp_path)) == 3
    texts = page_texts(pdf, tmp_path)
    for n, text in enumerate(texts):
        assert ["第一联存档", "第二联交被检查单位", "第三联随案卷备查"][n] in text
        assert "洛阳好运来超市" in text and "偃师区商都路18号" in text
        assert "消防安全责任制落实情况符合" in text
        assert "消防设施器材完好有效不符合" in text
        assert "疏散通道畅通不适用" in text
        assert "灭火器压力不足" in text and "检查结果责令限期改正" in text
        assert "李卫国" in text and "豫消A0002" in text and "王小明" in text
    # the unit's and both inspectors' signatures, on each copy
    assert len(image_rows(pdf, tmp_path)) == 9
    # the partner may print it too
    client.post("/logout")
    login(client, "partner")
    assert client.get(_url(sc.task, "/check-form.pdf")).status_code == 200


@pytest.mark.parametrize(("who", "status"), [("other", 404), (None, 302)])
def test_others_cannot_print_the_check_form(client, db, request, who, status):
    sc = request.getfixturevalue("scene")
    _submit(client, db, sc)
    client.post("/logout")
    if who:
        login(client, who)
    resp = client.get(_url(sc.task, "/check-form.pdf"))
    assert resp.status_code == status
    if who is None:
        assert "/login" in resp.headers["Location"]


def test_joint_task_copies_go_to_each_department_and_the_unit(client, db, tmp_path):
    fire = make_org(name="洛阳市偃师区消防救援大队")
    market = make_org(name="洛阳市偃师区市场监督管理局", dept="market")
    item = make_item(fire, departments="fire,market", points=["消防设施器材完好有效"])
    version = db.session.execute(select(ItemVersion).where(ItemVersion.item_id == item.id)).scalar_one()
    db.session.add(ChecklistPoint(item_version_id=version.id, seq=2, dept="market", text="营业执照登记事项"))
    points = {p.dept: p for p in db.session.execute(select(ChecklistPoint)).scalars()}
    fi = make_inspector(fire, user=make_user(fire, role=Role.INSPECTOR, username="fireman"))
    mi = make_inspector(market, user=make_user(market, role=Role.INSPECTOR, username="marketman"))
    task = make_task(
        fire, make_unit(fire, name="偃师区红星商店"), version.id, people=[fi, mi], depts=["fire", "market"]
    )
    db.session.commit()
    base = _url(task)
    login(client, "marketman")
    client.post(base + "/start", data={"client_uuid": new_uuid()})
    assert client.post(f"{base}/answers/{points['market'].id}", data={"answer": "na"}, headers=HX).status_code == 200
    client.post("/logout")
    login(client, "fireman")
    assert client.post(f"{base}/answers/{points['fire'].id}", data={"answer": "complies"}).status_code == 200
    client.post(base + "/partner")
    cu = db.session.execute(select(Inspection.client_uuid).where(Inspection.task_id == task.id)).scalar_one()
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    client.post(base + "/result", data=data)
    sign_all(client, task, signer_keys(task))
    r = client.post(base + "/submit", data=data, headers=HX)
    assert r.status_code == 200, r.get_data(as_text=True)
    pdf = client.get(base + "/check-form.pdf").data
    texts = page_texts(pdf, tmp_path)
    assert len(texts) == 3
    assert "第一联洛阳市偃师区消防救援大队存档" in texts[0]
    assert "第二联洛阳市偃师区市场监督管理局存档" in texts[1]
    assert "第三联交被检查单位" in texts[2]
    for text in texts:
        assert "联合执法检查表" in text and "偃师区红星商店" in text
        assert "洛阳市偃师区消防救援大队消防设施器材完好有效符合" in text
        assert "洛阳市偃师区市场监督管理局营业执照登记事项不适用" in text
        assert "发现问题无" in text and "检查结果未发现问题" in text


# ---------------------------------------------------------------------------------------- 行政检查通知书

NOTICE_UNIT = "洛阳市偃师区顺达五金交电有限公司"
NOTICE_URL = "https://suijian.example.cn/v/Q9x2Lk7mR4tWz8sA1bC3dE5f"
NOTICE_INSPECTORS = (Inspector("张建国", FIRE, "豫消4103001234"), Inspector("李红梅", MARKET, "豫市监4103005678"))


def notice(**changes) -> InspectionNotice:
    data = {
        "issuing_org": FIRE,
        "unit_name": NOTICE_UNIT,
        "basis": "《中华人民共和国消防法》第五十三条",
        "content": "消防产品质量监督抽查（对使用领域的消防产品质量监督抽查）",
        "period_start": dt.date(2026, 11, 23),
        "period_end": dt.date(2026, 11, 24),
        "inspectors": NOTICE_INSPECTORS,
        "issue_date": dt.date(2026, 11, 23),
        "verify_url": NOTICE_URL,
    }
    data.update(changes)
    return InspectionNotice(**data)


def test_inspection_notice_pdf_reads_back(tmp_path):
    pdf = inspection_notice_pdf(notice())
    text = flat(pdf_text(pdf, tmp_path))
    for expected in [
        "行政检查通知书",
        NOTICE_UNIT,
        "《中华人民共和国消防法》第五十三条",
        "消防产品质量监督抽查",
        "2026年11月23日至2026年11月24日",
        "张建国",
        "豫消4103001234",
        "李红梅",
        "洛阳市偃师区市场监督管理局",
        "豫市监4103005678",
    ]:
        assert expected in text, expected
    assert "A4" in pdf_info(pdf, tmp_path)


def test_inspection_notice_without_qr_has_no_image(tmp_path):
    path = tmp_path / "n.pdf"
    path.write_bytes(inspection_notice_pdf(notice(verify_url="")))
    listing = subprocess.run([poppler("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True)
    assert " image " not in listing.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"basis": ""}, "请填写检查依据"),
        ({"period_end": dt.date(2026, 11, 22)}, "结束日期不能早于开始日期"),
        ({"inspectors": NOTICE_INSPECTORS[:1]}, "至少需要两名执法人员"),
        ({"inspectors": (*NOTICE_INSPECTORS[:1], Inspector("王五", "偃师区市场监督管理局", " "))}, "执法证件号"),
    ],
)
def test_inspection_notice_refuses_incomplete_data(changes, message):
    with pytest.raises(DocumentError, match=message):
        inspection_notice_pdf(notice(**changes))
