"""Notices: the PDFs read back with poppler (pdftotext / pdfimages), QR codes module by module, order numbers.

QR codes are not decoded (that needs zbar, absent here): instead every module the PNG, SVG and PDF draw is
compared with the matrix qrcode computes for the URL.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from webapp.documents import pdf as notices
from webapp.documents.pdf import (
    InspectionNotice,
    Inspector,
    NoticeError,
    Problem,
    RectificationNotice,
    format_order_number,
    inspection_notice_pdf,
    qr_matrix,
    qr_png,
    qr_svg,
    rectification_notice_pdf,
)

PATTERN = "{abbr}消限字〔{year}〕第{seq:04d}号"
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


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} (poppler-utils) is required in CI")
        pytest.skip(f"{tool} not installed: apt-get install poppler-utils")
    return path


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([_poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_info(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    return subprocess.run([_poppler("pdfinfo"), str(path)], capture_output=True, check=True, text=True).stdout


def pages(info: str) -> int:
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def flat(text: str) -> str:
    """pdftotext breaks wrapped lines; compare without whitespace."""
    return re.sub(r"\s+", "", text)


def modules_of(image: Image.Image, size: int) -> list[list[bool]]:
    """Read a QR image back module by module (dark = centre pixel darker than mid-grey)."""
    grey = image.convert("L")
    box = grey.width / size
    assert grey.width == grey.height
    return [
        [grey.getpixel((int((c + 0.5) * box), int((r + 0.5) * box))) < 128 for c in range(size)] for r in range(size)
    ]


def rectification(**changes) -> RectificationNotice:
    data = {
        "number": format_order_number(PATTERN, "偃", 2026, 1),
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


def inspection(**changes) -> InspectionNotice:
    data = {
        "issuing_org": "洛阳市偃师区消防救援大队",
        "unit_name": UNIT,
        "basis": "《中华人民共和国消防法》第五十三条",
        "content": "消防产品质量监督抽查（对使用领域的消防产品质量监督抽查）",
        "period_start": dt.date(2026, 11, 23),
        "period_end": dt.date(2026, 11, 24),
        "inspectors": INSPECTORS,
        "issue_date": dt.date(2026, 11, 23),
        "verify_url": URL,
    }
    data.update(changes)
    return InspectionNotice(**data)


# ------------------------------------------------------------------------------------------ PDFs


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


def test_inspection_notice_pdf_reads_back(tmp_path):
    pdf = inspection_notice_pdf(inspection())
    text = flat(pdf_text(pdf, tmp_path))
    for expected in [
        "行政检查通知书",
        UNIT,
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
    path.write_bytes(inspection_notice_pdf(inspection(verify_url="")))
    listing = subprocess.run([_poppler("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True)
    assert " image " not in listing.stdout


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
    subprocess.run([_poppler("pdfimages"), "-png", str(path), str(tmp_path / "img")], check=True)
    images = sorted(tmp_path.glob("img-*.png"))
    assert len(images) == 1
    matrix = qr_matrix(URL)
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
    with pytest.raises(NoticeError, match=message):
        rectification_notice_pdf(rectification(**changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"basis": ""}, "请填写检查依据"),
        ({"period_end": dt.date(2026, 11, 22)}, "结束日期不能早于开始日期"),
        ({"inspectors": INSPECTORS[:1]}, "至少需要两名执法人员"),
        ({"inspectors": (*INSPECTORS[:1], Inspector("王五", "偃师区市场监督管理局", " "))}, "执法证件号"),
    ],
)
def test_inspection_notice_refuses_incomplete_data(changes, message):
    with pytest.raises(NoticeError, match=message):
        inspection_notice_pdf(inspection(**changes))


# ------------------------------------------------------------------------------------------ QR for pages


def test_qr_png_draws_the_matrix_of_the_url():
    matrix = qr_matrix(URL)
    image = Image.open(io.BytesIO(qr_png(URL, box_size=6)))
    assert image.width == 6 * len(matrix)
    assert modules_of(image, len(matrix)) == matrix
    assert any(any(row) for row in matrix)
    assert matrix != qr_matrix(URL.replace("Q9x", "Q9y"))  # another token, another code


def test_qr_svg_draws_the_matrix_of_the_url():
    matrix = qr_matrix(URL)
    svg = qr_svg(URL)
    assert svg.startswith("<svg")
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg
    drawn = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}
    expected = {(c, r) for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark}
    assert drawn == expected


def test_qr_refuses_relative_or_odd_urls():
    for url in ["/v/abc", "ftp://x.cn/v/a", "", "https://" + "a" * 600 + ".cn"]:
        with pytest.raises(NoticeError, match="核验网址无效"):
            qr_png(url)


# ------------------------------------------------------------------------------------------ order numbers


def test_order_number_from_pattern():
    assert format_order_number(PATTERN, "偃", 2026, 1) == "偃消限字〔2026〕第0001号"
    assert format_order_number(PATTERN, "偃", 2026, 12345) == "偃消限字〔2026〕第12345号"
    assert format_order_number("{abbr}市监限改〔{year}〕{seq}号", "偃", 2027, 7) == "偃市监限改〔2027〕7号"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "请填写文书编号格式"),
        ("消限字第{seq:04d}号", "必须各包含一次"),  # no year: numbers would repeat every year
        ("{abbr}消限字〔{year}〕", "必须各包含一次"),
        ("{abbr}{seq}〔{year}〕第{seq}号", "必须各包含一次"),
        ("{abbr}消限字〔{year}〕第{seq:04d}号{org}", "不能使用“org”"),
        ("{abbr.__class__}〔{year}〕{seq}", "不能使用“abbr.__class__”"),
        ("{abbr!r}〔{year}〕{seq}", "不能使用"),
        ("{abbr}〔{year}〕第{seq:04d号", "花括号不成对"),
        ("{abbr}〔{year}〕第{seq:04x}号}", "花括号不成对"),
        ("{abbr}〔{year}〕第{seq:.2f}号", None),  # a float spec works on an int: allowed
        ("{abbr}〔{year}〕第{seq:Q}号", "格式写法无效"),
        ("{abbr}" + "字" * 60 + "{year}{seq}", "不能超过60个字符"),
    ],
)
def test_bad_order_patterns_are_refused_in_chinese(pattern, message):
    if message is None:
        assert notices.validate_order_pattern(pattern) == pattern
        return
    with pytest.raises(NoticeError, match=re.escape(message)):
        format_order_number(pattern, "偃", 2026, 1)


def test_order_number_arguments_are_checked():
    with pytest.raises(NoticeError, match="文书简称"):
        format_order_number(PATTERN, " ", 2026, 1)
    with pytest.raises(NoticeError, match="序号"):
        format_order_number(PATTERN, "偃", 2026, 0)
    with pytest.raises(NoticeError, match="年份"):
        format_order_number(PATTERN, "偃", 26, 1)
