"""PDF building blocks of the printed documents: font, paragraph styles, the inspector table, dates, checks.

PDFs are made with reportlab's platypus (A4, 2 cm margins, CJK line wrapping) in the CID font STSong-Light,
which needs no font file. Caveat: a CID font is not embedded in the PDF, so a PDF reader without any Chinese
font shows boxes; embedding a TrueType subset (e.g. WenQuanYi Micro Hei) would be the next step where a font
file can be shipped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Table, TableStyle

from webapp.documents import DocumentError, qr

FONT = "STSong-Light"
QR_SIZE = 3.2 * cm

pdfmetrics.registerFont(UnicodeCIDFont(FONT))

Styles = dict[str, ParagraphStyle]


@dataclass(frozen=True)
class Inspector:
    """An inspector as printed (亮证): name, organisation, law-enforcement certificate number."""

    name: str
    organisation: str
    certificate_no: str  # 执法证件号


def styles() -> Styles:
    """title, number, body, indent, item, right, small."""
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


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """Plain text (escaped; newlines kept) as a paragraph."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def date_text(day: dt.date) -> str:
    """2026年11月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


FIELD_LABELS = {
    "issuing_org": lambda: _("发文机关"),
    "unit_name": lambda: _("被检查单位"),
    "basis": lambda: _("检查依据"),
    "content": lambda: _("检查内容"),
    "number": lambda: _("文书编号"),
    "problems": lambda: _("存在问题"),
}


def require(**values: Any) -> None:
    """DocumentError 请填写… for the first empty value; keys are ``FIELD_LABELS``'s."""
    for key, value in values.items():
        if not value or (isinstance(value, str) and not value.strip()):
            raise DocumentError(_("请填写%(field)s。", field=FIELD_LABELS[key]()))


def check_inspectors(inspectors: Sequence[Inspector], minimum: int) -> None:
    """At least ``minimum`` inspectors (an on-site check needs two), each with name, organisation, certificate."""
    if len(inspectors) < minimum:
        raise DocumentError(_("现场检查至少需要两名执法人员。"))
    for person in inspectors:
        if not (person.name.strip() and person.organisation.strip() and person.certificate_no.strip()):
            raise DocumentError(_("每名执法人员都必须填写姓名、单位和执法证件号。"))


def inspector_table(inspectors: Sequence[Inspector], st: Styles) -> Table:
    """姓名 / 单位 / 执法证件号, one row per inspector."""
    body = st["body"]
    rows = [[paragraph(_("姓名"), body), paragraph(_("单位"), body), paragraph(_("执法证件号"), body)]]
    rows += [[paragraph(i.name, body), paragraph(i.organisation, body), paragraph(i.certificate_no, body)]
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


def qr_block(url: str, st: Styles) -> Table:
    """The verification QR code with the URL beside it."""
    image = Image(io.BytesIO(qr.png(url, box_size=8)), width=QR_SIZE, height=QR_SIZE)
    note = paragraph(_("扫描二维码可核验本文书真伪及整改状态：") + "\n" + url, st["small"])
    table = Table([[image, note]], colWidths=[QR_SIZE + 0.4 * cm, 17 * cm - QR_SIZE - 0.4 * cm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    return table


def build(title: str, flowables: list) -> bytes:
    """An A4 PDF (2 cm margins) of ``flowables``, titled ``title``."""
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
