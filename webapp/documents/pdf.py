"""Printable notices: 《行政检查通知书》 and 《责令限期改正通知书》 as PDFs, QR codes, order numbers.

Plain module (no database, no request): callers fill the dataclasses below and get PDF bytes.

PDFs are made with reportlab's platypus (A4, 2 cm margins, CJK line wrapping) in the CID font
STSong-Light, which needs no font file. Caveat: a CID font is not embedded in the PDF, so a PDF reader
without any Chinese font shows boxes; embedding a TrueType subset (e.g. WenQuanYi Micro Hei) would be the
next step where a font file can be shipped.

Every notice can carry a QR code to its public verification page (``/v/<token>``); the rectification
notice must. QR codes use error correction level M and the standard 4-module quiet zone.
"""

from __future__ import annotations

import datetime as dt
import io
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import qrcode
import qrcode.image.svg
from flask_babel import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
QR_SIZE = 3.2 * cm
QR_BORDER = 4
MAX_URL = 500
MAX_PATTERN = 60
ORDER_FIELDS = ("abbr", "year", "seq")

pdfmetrics.registerFont(UnicodeCIDFont(FONT))


class NoticeError(ValueError):
    """The notice data or an order-number pattern is not valid. ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Inspector:
    name: str
    organisation: str
    certificate_no: str  # 执法证件号


@dataclass(frozen=True)
class Problem:
    description: str
    legal_basis: str  # e.g. 《中华人民共和国消防法》第十六条第一款第二项


@dataclass(frozen=True)
class InspectionNotice:
    """《行政检查通知书》, shown to the unit at the start of an inspection (亮证)."""

    issuing_org: str
    unit_name: str
    basis: str  # legal basis of the inspection
    content: str  # what is checked
    period_start: dt.date
    period_end: dt.date
    inspectors: Sequence[Inspector]
    issue_date: dt.date
    number: str = ""
    unit_address: str = ""
    verify_url: str = ""  # optional QR


@dataclass(frozen=True)
class RectificationNotice:
    """《责令限期改正通知书》."""

    number: str  # e.g. 偃消限字〔2026〕第0001号
    unit_name: str
    problems: Sequence[Problem]
    deadline: dt.date
    issuing_org: str
    issue_date: dt.date
    verify_url: str  # /v/<token> on this site, absolute
    unit_address: str = ""
    order_basis: str = ""  # the provision under which the order is given, optional
    inspectors: Sequence[Inspector] = field(default_factory=tuple)


# ------------------------------------------------------------------------------------------ QR codes


def _check_url(url: str) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise NoticeError(_("核验网址无效，必须是以 http:// 或 https:// 开头的完整网址。"))
    return url


def _qr(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_BORDER, box_size=10)
    code.add_data(_check_url(url))
    code.make(fit=True)
    return code


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules for ``url`` including the quiet zone (True = dark); what the PNG/SVG/PDF draw."""
    return _qr(url).get_matrix()


def qr_png(url: str, box_size: int = 10) -> bytes:
    """QR code as PNG bytes: ``box_size`` pixels per module, black on white, 4-module quiet zone."""
    code = _qr(url)
    code.box_size = box_size
    out = io.BytesIO()
    code.make_image().save(out)  # qrcode's Pillow factory
    return out.getvalue()


def qr_svg(url: str) -> str:
    """QR code as a standalone SVG document (one path; scales without blur on printable pages)."""
    image = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


# ------------------------------------------------------------------------------------------ order numbers


def validate_order_pattern(pattern: str) -> str:
    """Check an order-number pattern such as ``{abbr}消限字〔{year}〕第{seq:04d}号``; return it.

    Only the fields ``{abbr}``, ``{year}`` and ``{seq}`` are allowed, each at most once and all three
    required (numbers are unique per organisation and year); format specs are allowed, conversions and
    attribute/index access are not.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise NoticeError(_("请填写文书编号格式。"))
    if len(pattern) > MAX_PATTERN:
        raise NoticeError(_("文书编号格式不能超过%(n)s个字符。", n=MAX_PATTERN))
    seen: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        raise NoticeError(_("文书编号格式有误：花括号不成对。")) from None
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in ORDER_FIELDS or conversion is not None or "{" in (spec or ""):
            raise NoticeError(
                _("文书编号格式只能使用 {abbr}（单位简称）、{year}（年份）和 {seq}（序号），不能使用“%(f)s”。", f=name)
            )
        seen.append(name)
    for required in ORDER_FIELDS:
        if seen.count(required) != 1:
            raise NoticeError(
                _("文书编号格式必须各包含一次 {abbr}、{year} 和 {seq}，例如 {abbr}消限字〔{year}〕第{seq:04d}号。")
            )
    try:
        pattern.format(abbr="偃", year=2026, seq=1)
    except (ValueError, TypeError):
        raise NoticeError(_("文书编号格式有误：序号或年份的格式写法无效，例如 {seq:04d}。")) from None
    return pattern


def format_order_number(pattern: str, org_abbr: str, year: int, seq: int) -> str:
    """``format_order_number("{abbr}消限字〔{year}〕第{seq:04d}号", "偃", 2026, 1)`` → 偃消限字〔2026〕第0001号."""
    validate_order_pattern(pattern)
    if not isinstance(org_abbr, str) or not org_abbr.strip() or "{" in org_abbr or "}" in org_abbr:
        raise NoticeError(_("请先填写本机构的文书简称。"))
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise NoticeError(_("年份无效。"))
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise NoticeError(_("序号必须是正整数。"))
    return pattern.format(abbr=org_abbr.strip(), year=year, seq=seq)


# ------------------------------------------------------------------------------------------ PDF helpers


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=0)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER),
        "body": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=24),
        "item": ParagraphStyle("item", parent=base, leftIndent=24, firstLineIndent=-12),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _required(**values: object) -> None:
    labels = {
        "issuing_org": _("发文机关"),
        "unit_name": _("被检查单位"),
        "basis": _("检查依据"),
        "content": _("检查内容"),
        "number": _("文书编号"),
        "problems": _("存在问题"),
    }
    for key, value in values.items():
        if not value or (isinstance(value, str) and not value.strip()):
            raise NoticeError(_("请填写%(field)s。", field=labels[key]))


def _check_inspectors(inspectors: Sequence[Inspector], minimum: int) -> None:
    if len(inspectors) < minimum:
        raise NoticeError(_("现场检查至少需要两名执法人员。"))
    for person in inspectors:
        if not (person.name.strip() and person.organisation.strip() and person.certificate_no.strip()):
            raise NoticeError(_("每名执法人员都必须填写姓名、单位和执法证件号。"))


def _inspector_table(inspectors: Sequence[Inspector], styles: dict[str, ParagraphStyle]) -> Table:
    rows = [[_p(_("姓名"), styles["body"]), _p(_("单位"), styles["body"]), _p(_("执法证件号"), styles["body"])]]
    rows += [[_p(i.name, styles["body"]), _p(i.organisation, styles["body"]), _p(i.certificate_no, styles["body"])]
             for i in inspectors]  # fmt: skip
    table = Table(rows, colWidths=[3.5 * cm, 8 * cm, 5.5 * cm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "#000000"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
            ]
        )
    )
    return table


def _qr_block(url: str, styles: dict[str, ParagraphStyle]) -> Table:
    image = Image(io.BytesIO(qr_png(url, box_size=8)), width=QR_SIZE, height=QR_SIZE)
    note = _p(_("扫描二维码可核验本文书真伪及整改状态：") + "\n" + url, styles["small"])
    table = Table([[image, note]], colWidths=[QR_SIZE + 0.4 * cm, 17 * cm - QR_SIZE - 0.4 * cm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return table


def _build(title: str, flowables: list) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=title,
        author="",
        creator="SuiJian",
    )
    doc.build(flowables)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ notices


def inspection_notice_pdf(data: InspectionNotice) -> bytes:
    """《行政检查通知书》 as PDF bytes (A4)."""
    _required(issuing_org=data.issuing_org, unit_name=data.unit_name, basis=data.basis, content=data.content)
    if data.period_end < data.period_start:
        raise NoticeError(_("检查期间的结束日期不能早于开始日期。"))
    _check_inspectors(data.inspectors, 2)
    if data.verify_url:
        _check_url(data.verify_url)
    st = _styles()
    title = _("行政检查通知书")
    story: list = [_p(data.issuing_org, st["number"]), _p(title, st["title"])]
    if data.number:
        story.append(_p(data.number, st["number"]))
    story += [Spacer(1, 0.5 * cm), _p(data.unit_name + _("："), st["body"])]
    if data.unit_address:
        story.append(_p(_("地址：") + data.unit_address, st["small"]))
    period = _date(data.period_start)
    if data.period_end != data.period_start:
        period += _("至") + _date(data.period_end)
    story += [
        Spacer(1, 0.2 * cm),
        _p(_("根据%(basis)s，本机关决定对你单位进行行政检查。现将有关事项通知如下：", basis=data.basis), st["indent"]),
        _p(_("一、检查内容：") + data.content, st["indent"]),
        _p(_("二、检查期间：") + period, st["indent"]),
        _p(_("三、检查人员（已出示执法证件）："), st["indent"]),
        Spacer(1, 0.1 * cm),
        _inspector_table(data.inspectors, st),
        Spacer(1, 0.3 * cm),
        _p(
            _("请你单位予以配合，如实提供有关情况和资料。执法人员少于两人或者未出示执法证件的，你单位有权拒绝检查。"),
            st["indent"],
        ),
        Spacer(1, 1 * cm),
        _p(data.issuing_org, st["right"]),
        _p(_date(data.issue_date), st["right"]),
    ]
    if data.verify_url:
        story += [Spacer(1, 0.8 * cm), _qr_block(data.verify_url, st)]
    return _build(title, story)


def rectification_notice_pdf(data: RectificationNotice) -> bytes:
    """《责令限期改正通知书》 as PDF bytes (A4), with the verification QR code."""
    _required(number=data.number, unit_name=data.unit_name, issuing_org=data.issuing_org, problems=data.problems)
    for problem in data.problems:
        if not problem.description.strip() or not problem.legal_basis.strip():
            raise NoticeError(_("每个问题都必须写明问题描述和法律依据。"))
    if data.deadline <= data.issue_date:
        raise NoticeError(_("改正期限必须晚于发文日期。"))
    if data.inspectors:
        _check_inspectors(data.inspectors, 2)
    _check_url(data.verify_url)
    st = _styles()
    title = _("责令限期改正通知书")
    story: list = [
        _p(data.issuing_org, st["number"]),
        _p(title, st["title"]),
        _p(data.number, st["number"]),
        Spacer(1, 0.5 * cm),
        _p(data.unit_name + _("："), st["body"]),
    ]
    if data.unit_address:
        story.append(_p(_("地址：") + data.unit_address, st["small"]))
    story += [
        Spacer(1, 0.2 * cm),
        _p(_("经检查，你单位存在下列问题："), st["indent"]),
    ]
    for n, problem in enumerate(data.problems, start=1):
        story.append(_p(f"{n}. {problem.description}" + _("（违反%(law)s）", law=problem.legal_basis), st["item"]))
    order = _("根据%(basis)s，", basis=data.order_basis) if data.order_basis.strip() else ""
    story += [
        Spacer(1, 0.2 * cm),
        _p(
            order
            + _(
                "责令你单位于%(deadline)s前改正上述问题。改正期间，你单位应当采取措施，确保安全。",
                deadline=_date(data.deadline),
            ),
            st["indent"],
        ),
        _p(_("逾期不改正的，本机关将依法处理。"), st["indent"]),
    ]
    if data.inspectors:
        names = "、".join(f"{i.name}（{i.certificate_no}）" for i in data.inspectors)
        story += [Spacer(1, 0.3 * cm), _p(_("执法人员：") + names, st["body"])]
    story += [
        Spacer(1, 1 * cm),
        _p(data.issuing_org, st["right"]),
        _p(_date(data.issue_date), st["right"]),
        Spacer(1, 0.8 * cm),
        _qr_block(data.verify_url, st),
        Spacer(1, 0.3 * cm),
        _p(_("被检查单位签收：") + "\u3000" * 12 + _("日期："), st["body"]),
    ]
    return _build(title, story)
