"""《责令限期改正通知书》: the PDF read back with poppler (pdftotext / pdfimages), its QR code module by module."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from PIL import Image

from tests.documents.poppler import flat, modules_of, pages, pdf_info, pdf_text, poppler
from webapp.documents import DocumentError, qr
from webapp.documents.pdf import Inspector
from webapp.rectification.documents import Problem, RectificationNotice, rectification_notice_pdf

URL = "https://suijian.example.cn/v/Q9x2Lk7mR4tWz8sA1bC3dE5f"
UNIT = "洛阳市偃师区顺达五金交电有限公司"
INSPECTORS = (
    Inspector("张建国", "洛阳市偃师区消防救援大队", "豫消4103001234"),
    Inspector("李红梅", "洛阳市偃师区市场监督管理局", "豫市监4103005678"),
)
LONG_PROBLEM = (
    "二层仓库内疏散通道堆放大量纸箱及五金货物，占用疏散通道宽度约一点二米，"
    "安全出口处的常闭式防火门被木楔固定于开启状态，且疏散指示标志损坏不亮，"
    "发生火灾时将严重影响人员安全疏散"
)


def rectification(**changes) -> RectificationNotice:
    data = {
        "number": "偃消限字〔2026〕第0001号",
        "unit_name": UNIT,
        "unit_address": "偃师区商城路与华夏路交叉口东北角",
        "problems": (
            Problem(LONG_PROBLEM, "《中华人民共和国消防法》第二十八条"),
            Problem("灭火器压力不足", "《中华人民共和国消防法》第十六条第一款第二项"),
        ),
        "deadline": dt.date(2026, 12, 21),
        "issuing_org": "洛阳市偃师区消防救援大队",
        "issue_date": dt.date(2026, 11, 23),
        "verify_url": URL,
        "order_basis": "《中华人民共和国消防法》第六十条",
        "inspectors": INSPECTORS,
    }
    data.update(changes)
    return RectificationNotice(**data)


def test_rectification_notice_pdf_reads_back(tmp_path):
    pdf = rectification_notice_pdf(rectification())
    assert pdf.startswith(b"%PDF-")
    text = flat(pdf_text(pdf, tmp_path))
    for expected in [
        "责令限期改正通知书",
        "偃消限字〔2026〕第0001号",
        UNIT,
        "2026年12月21日前改正",  # the deadline
        "洛阳市偃师区消防救援大队",
        "2026年11月23日",
        flat(LONG_PROBLEM),  # wrapped over several lines, nothing lost
        "《中华人民共和国消防法》第二十八条",
        "《中华人民共和国消防法》第十六条第一款第二项",
        "灭火器压力不足",
        "豫消4103001234",
        URL,
    ]:
        assert expected in text, expected
    info = pdf_info(pdf, tmp_path)
    assert "595.276 x 841.89 pts (A4)" in info
    assert pages(info) == 1


def test_many_problems_flow_onto_a_second_page(tmp_path):
    problems = tuple(Problem(f"第{i}处：{LONG_PROBLEM}", "《中华人民共和国消防法》第二十八条") for i in range(1, 13))
    pdf = rectification_notice_pdf(rectification(problems=problems))
    assert pages(pdf_info(pdf, tmp_path)) == 2
    text = flat(pdf_text(pdf, tmp_path))
    assert "第12处" in text
    assert URL in text


def test_qr_in_the_pdf_is_the_qr_of_the_verification_url(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(rectification_notice_pdf(rectification()))
    subprocess.run([poppler("pdfimages"), "-png", str(path), str(tmp_path / "img")], check=True)
    images = sorted(tmp_path.glob("img-*.png"))
    assert len(images) == 1
    matrix = qr.matrix(URL)
    assert modules_of(Image.open(images[0]), len(matrix)) == matrix


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unit_name": "  "}, "请填写被检查单位"),
        ({"number": ""}, "请填写文书编号"),
        ({"problems": ()}, "请填写存在问题"),
        ({"problems": (Problem("灭火器压力不足", ""),)}, "法律依据"),
        ({"deadline": dt.date(2026, 11, 23)}, "改正期限必须晚于发文日期"),
        ({"verify_url": "/v/abc"}, "核验网址无效"),
        ({"verify_url": "javascript:alert(1)"}, "核验网址无效"),
        ({"inspectors": INSPECTORS[:1]}, "至少需要两名执法人员"),
    ],
)
def test_rectification_notice_refuses_incomplete_data(changes, message):
    with pytest.raises(DocumentError, match=message):
        rectification_notice_pdf(rectification(**changes))
