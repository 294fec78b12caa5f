"""《责令限期改正通知书》: the rectification notice handed to the unit, as a PDF with its verification QR code.

``rectification_notice_pdf(data)`` is a pure builder (:class:`RectificationNotice` in, PDF bytes out, with the
building blocks of :mod:`webapp.documents.pdf`); ``notice_pdf(order, verify_url)`` fills it from an order.
The QR code leads to the public verification page ``/v/<token>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from reportlab.lib.units import cm
from reportlab.platypus import Spacer

from webapp.documents import DocumentError, qr
from webapp.documents.pdf import (
    Inspector,
    build,
    check_inspectors,
    date_text,
    paragraph,
    qr_block,
    require,
    styles,
)
from webapp.rectification.models import OrderKind, RectificationOrder
from webapp.rectification.services import inspectors_of


@dataclass(frozen=True)
class Problem:
    description: str
    legal_basis: str  # e.g. 《中华人民共和国消防法》第十六条第一款第二项


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


def rectification_notice_pdf(data: RectificationNotice) -> bytes:
    """《责令限期改正通知书》 as PDF bytes (A4), with the verification QR code."""
    require(number=data.number, unit_name=data.unit_name, issuing_org=data.issuing_org, problems=data.problems)
    for problem in data.problems:
        if not problem.description.strip() or not problem.legal_basis.strip():
            raise DocumentError(_("每个问题都必须写明问题描述和法律依据。"))
    if data.deadline <= data.issue_date:
        raise DocumentError(_("改正期限必须晚于发文日期。"))
    if data.inspectors:
        check_inspectors(data.inspectors, 2)
    qr.check_url(data.verify_url)
    st = styles()
    title = _("责令限期改正通知书")
    story: list = [
        paragraph(data.issuing_org, st["number"]),
        paragraph(title, st["title"]),
        paragraph(data.number, st["number"]),
        Spacer(1, 0.5 * cm),
        paragraph(data.unit_name + _("："), st["body"]),
    ]
    if data.unit_address:
        story.append(paragraph(_("地址：") + data.unit_address, st["small"]))
    story += [
        Spacer(1, 0.2 * cm),
        paragraph(_("经检查，你单位存在下列问题："), st["indent"]),
    ]
    for n, problem in enumerate(data.problems, start=1):
        story.append(
            paragraph(f"{n}. {problem.description}" + _("（违反%(law)s）", law=problem.legal_basis), st["item"])
        )
    order = _("根据%(basis)s，", basis=data.order_basis) if data.order_basis.strip() else ""
    story += [
        Spacer(1, 0.2 * cm),
        paragraph(
            order
            + _(
                "责令你单位于%(deadline)s前改正上述问题。改正期间，你单位应当采取措施，确保安全。",
                deadline=date_text(data.deadline),
            ),
            st["indent"],
        ),
        paragraph(_("逾期不改正的，本机关将依法处理。"), st["indent"]),
    ]
    if data.inspectors:
        names = "、".join(f"{i.name}（{i.certificate_no}）" for i in data.inspectors)
        story += [Spacer(1, 0.3 * cm), paragraph(_("执法人员：") + names, st["body"])]
    story += [
        Spacer(1, 1 * cm),
        paragraph(data.issuing_org, st["right"]),
        paragraph(date_text(data.issue_date), st["right"]),
        Spacer(1, 0.8 * cm),
        qr_block(data.verify_url, st),
        Spacer(1, 0.3 * cm),
        paragraph(_("被检查单位签收：") + "\u3000" * 12 + _("日期："), st["body"]),
    ]
    return build(title, story)


def notice_pdf(order: RectificationOrder, verify_url: str) -> bytes | None:
    """The order's 《责令限期改正通知书》 (full names: it is handed to the unit), with the QR code to ``verify_url``.

    None for a 责令立即改正 (it has no such notice) or when the order's data is incomplete.
    """
    if order.kind != OrderKind.DEADLINE:
        return None
    people = [
        Inspector(name=i.name, organisation=i.org.name, certificate_no=i.cert_no or "") for i in inspectors_of(order)
    ]
    if len(people) < 2 or not all(p.certificate_no for p in people):
        people = []  # the PDF lists inspectors only when both, with certificates, are known
    data = RectificationNotice(
        number=order.number,
        unit_name=order.unit.name,
        problems=[Problem(description=p["text"], legal_basis=p["basis"]) for p in order.problems],
        deadline=order.deadline,
        issuing_org=order.org.name,
        issue_date=order.issued_on,
        verify_url=verify_url,
        unit_address=order.unit.address or "",
        inspectors=tuple(people),
    )
    try:
        return rectification_notice_pdf(data)
    except DocumentError:
        return None
