"""The inspection's documents: 《行政检查通知书》 (shown to the unit at the start, 亮证) and the check form.

* ``notice_data(ctx)`` / ``notice_pdf(ctx)``: the notice of a task, as the page shows it and as a PDF
  (:func:`inspection_notice_pdf`, a pure builder: :class:`InspectionNotice` in, PDF bytes out).
* The joint check form (《“双随机、一公开”联合执法检查表》, seed 002) as a PDF in three copies (三联):
  ``check_form_pdf(data)`` is a pure builder (:class:`CheckForm` in, PDF bytes out); each copy is one page
  headed by its 联 label, e.g. 第一联 消防救援机构存档 / 第二联 市场监督管理部门存档 / 第三联 交被检查单位 — the seed:
  一式三份，被检查单位、消防救援大队、市场监督管理局各一份. ``check_form_for(ctx)`` fills it from a submitted record.

The PDFs use the building blocks of :mod:`webapp.documents.pdf` (A4, STSong-Light).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from PIL import Image as PILImage
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Image, PageBreak, Spacer, Table, TableStyle

from webapp import calendar
from webapp.auth.models import Organisation
from webapp.documents import DocumentError, qr
from webapp.documents.pdf import (
    Inspector,
    Styles,
    build,
    check_inspectors,
    date_text,
    inspector_table,
    paragraph,
    qr_block,
    require,
    styles,
)
from webapp.extensions import db
from webapp.inspections import signing
from webapp.inspections.labels import ANSWER_LABELS, CATEGORY_LABELS, RESULT_LABELS
from webapp.inspections.models import InspectionStatus, SignerRole
from webapp.inspections.record import TaskContext
from webapp.inspections.services import answers_by_point, points
from webapp.registry.labels import DEPT
from webapp.tasks.models import Task

# ------------------------------------------------------------------------------------ 行政检查通知书


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


def inspection_notice_pdf(data: InspectionNotice) -> bytes:
    """《行政检查通知书》 as PDF bytes (A4)."""
    require(issuing_org=data.issuing_org, unit_name=data.unit_name, basis=data.basis, content=data.content)
    if data.period_end < data.period_start:
        raise DocumentError(_("检查期间的结束日期不能早于开始日期。"))
    check_inspectors(data.inspectors, 2)
    if data.verify_url:
        qr.check_url(data.verify_url)
    st = styles()
    title = _("行政检查通知书")
    story: list = [paragraph(data.issuing_org, st["number"]), paragraph(title, st["title"])]
    if data.number:
        story.append(paragraph(data.number, st["number"]))
    story += [Spacer(1, 0.5 * cm), paragraph(data.unit_name + _("："), st["body"])]
    if data.unit_address:
        story.append(paragraph(_("地址：") + data.unit_address, st["small"]))
    period = date_text(data.period_start)
    if data.period_end != data.period_start:
        period += _("至") + date_text(data.period_end)
    story += [
        Spacer(1, 0.2 * cm),
        paragraph(
            _("根据%(basis)s，本机关决定对你单位进行行政检查。现将有关事项通知如下：", basis=data.basis), st["indent"]
        ),
        paragraph(_("一、检查内容：") + data.content, st["indent"]),
        paragraph(_("二、检查期间：") + period, st["indent"]),
        paragraph(_("三、检查人员（已出示执法证件）："), st["indent"]),
        Spacer(1, 0.1 * cm),
        inspector_table(data.inspectors, st),
        Spacer(1, 0.3 * cm),
        paragraph(
            _("请你单位予以配合，如实提供有关情况和资料。执法人员少于两人或者未出示执法证件的，你单位有权拒绝检查。"),
            st["indent"],
        ),
        Spacer(1, 1 * cm),
        paragraph(data.issuing_org, st["right"]),
        paragraph(date_text(data.issue_date), st["right"]),
    ]
    if data.verify_url:
        story += [Spacer(1, 0.8 * cm), qr_block(data.verify_url, st)]
    return build(title, story)


def notice_data(ctx: TaskContext) -> dict[str, Any]:
    """What the notice page shows for the task (and what the PDF prints)."""
    task = ctx.task
    version = task.item_version
    start = (ctx.inspection.checkin_at.date() if ctx.inspection and ctx.inspection.checkin_at else None) or (
        task.planned_date
    )
    content = version.name + "：" + "；".join(p.text for p in points(ctx))
    return {
        "issuing_org": task.draw.org.name if task.draw else _org_name(task),
        "unit_name": task.unit.name,
        "unit_address": task.unit.address or "",
        "basis": version.basis,
        "content": content,
        "period_start": start,
        "period_end": max(start, task.planned_date),
        "issue_date": start,
        "inspectors": [
            {
                "name": a.inspector.name,
                "organisation": a.inspector.org.name,
                "certificate_no": a.inspector.cert_no or "",
                "cert_valid_until": a.inspector.cert_valid_until,
                "role": a.role,
            }
            for a in task.active_assignments
        ],
    }


def _org_name(task: Task) -> str:
    org = db.session.get(Organisation, task.org_id)
    return org.name if org else ""


def notice_pdf(ctx: TaskContext) -> bytes | None:
    """The task's 《行政检查通知书》 as PDF bytes, or None when its data is incomplete."""
    d = notice_data(ctx)
    data = InspectionNotice(
        issuing_org=d["issuing_org"],
        unit_name=d["unit_name"],
        basis=d["basis"],
        content=d["content"],
        period_start=d["period_start"],
        period_end=d["period_end"],
        inspectors=[
            Inspector(name=i["name"], organisation=i["organisation"], certificate_no=i["certificate_no"])
            for i in d["inspectors"]
        ],
        issue_date=d["issue_date"] or calendar.today(),
        unit_address=d["unit_address"],
    )
    try:
        return inspection_notice_pdf(data)
    except DocumentError:
        return None


# ---------------------------------------------------------------------------------------------- 检查表

COPIES = 3
SIG_W = 3.6 * cm
SIG_H = 1.3 * cm
GRID: list[Any] = [
    ("GRID", (0, 0), (-1, -1), 0.5, "#000000"),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
]


@dataclass(frozen=True)
class CheckedPoint:
    """One checklist point as checked: the checking department, the point, 符合/不符合/不适用 (label), a note."""

    department: str
    text: str
    answer: str
    note: str = ""


@dataclass(frozen=True)
class FoundProblem:
    description: str
    legal_basis: str = ""


@dataclass(frozen=True)
class SignatureBox:
    """A signer's line: role (被检查单位随同人员 / 执法检查人员), name, the signature PNG or a recorded refusal."""

    role: str
    name: str
    png: bytes | None = None
    refused_reason: str = ""  # non-empty: the signer refused to sign
    proxy_note: str = ""  # non-empty: 代签 — who signed for this signer, and why (由张三代签，原因：…)


@dataclass(frozen=True)
class CheckForm:
    title: str
    unit_name: str
    check_date: dt.date
    inspectors: Sequence[Inspector]
    points: Sequence[CheckedPoint]
    result: str  # 未发现问题 / 责令立即改正 / 责令限期改正
    copy_labels: Sequence[str]  # three, e.g. ("第一联 存档", "第二联 交被检查单位", "第三联 …")
    uscc: str = ""
    legal_rep: str = ""
    address: str = ""
    problems: Sequence[FoundProblem] = field(default_factory=tuple)
    category: str = ""  # the published category (公示结果类别)
    remarks: str = ""
    signatures: Sequence[SignatureBox] = field(default_factory=tuple)
    record_hash: str = ""  # the submitted record's fingerprint


def default_copy_labels(departments: Sequence[str]) -> tuple[str, str, str]:
    """三联: one copy for each checking department's file (at most two) and one for the unit."""
    keep = [d for d in dict.fromkeys(departments) if d][:2]
    if len(keep) == 2:
        return (
            _("第一联 %(d)s存档", d=keep[0]),
            _("第二联 %(d)s存档", d=keep[1]),
            _("第三联 交被检查单位"),
        )
    return (_("第一联 存档"), _("第二联 交被检查单位"), _("第三联 随案卷备查"))


def _compact_styles() -> Styles:
    """The documents' styles, smaller: one copy of the form fits on one A4 page."""
    st = styles()
    sizes = {"body": (10.5, 14), "right": (10.5, 14), "small": (9, 12), "number": (14, 20)}
    return {k: ParagraphStyle(k + "-form", parent=v, fontSize=sizes[k][0], leading=sizes[k][1])
            for k, v in st.items() if k in sizes}  # fmt: skip


def _box(rows: list, widths: list[float], header: bool = False) -> Table:
    table = Table(rows, colWidths=widths)
    style = list(GRID)
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"))
    table.setStyle(TableStyle(style))
    return table


def _signature_image(png: bytes) -> Image:
    with PILImage.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = min(SIG_W / max(w, 1), SIG_H / max(h, 1))
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def _signature_cell(sig: SignatureBox, st: Styles) -> Any:
    if sig.refused_reason:
        return paragraph(_("拒绝签字：") + sig.refused_reason, st["small"])
    if sig.png:
        return _signature_image(sig.png)
    return ""


def _copy(data: CheckForm, label: str, st: Styles) -> list:
    body, small = st["body"], st["small"]
    story: list = [
        paragraph(label, st["right"]),
        paragraph(data.title, st["number"]),
        paragraph(_("检查时间：") + date_text(data.check_date), st["body"]),
        Spacer(1, 0.2 * cm),
        paragraph(_("执法检查人员"), body),
        inspector_table(data.inspectors, st),
        Spacer(1, 0.2 * cm),
    ]
    unit = [
        [paragraph(_("检查对象名称"), body), paragraph(data.unit_name, body)],
        [paragraph(_("统一社会信用代码/注册号"), body), paragraph(data.uscc or "—", body)],
        [paragraph(_("法定代表人/负责人"), body), paragraph(data.legal_rep or "—", body)],
        [paragraph(_("地址"), body), paragraph(data.address or "—", body)],
    ]
    story += [_box(unit, [5 * cm, 12 * cm]), Spacer(1, 0.2 * cm)]
    rows = [[paragraph(_("检查单位"), body), paragraph(_("检查事项"), body), paragraph(_("检查结果"), body)]]
    for point in data.points:
        text = point.text + (("\n" + _("说明：") + point.note) if point.note else "")
        rows.append([paragraph(point.department, small), paragraph(text, small), paragraph(point.answer or "—", body)])
    story += [_box(rows, [4 * cm, 10.5 * cm, 2.5 * cm], header=True), Spacer(1, 0.2 * cm)]
    problems = "\n".join(
        f"{n}. {p.description}" + (_("（%(law)s）", law=p.legal_basis) if p.legal_basis else "")
        for n, p in enumerate(data.problems, start=1)
    ) or _("无")
    outcome = [
        [paragraph(_("发现问题"), body), paragraph(problems, small)],
        [paragraph(_("检查结果"), body), paragraph(data.result, body)],
    ]
    if data.category:
        outcome.append([paragraph(_("公示结果类别"), body), paragraph(data.category, body)])
    note = _("检查结果分别为：1、未发现问题；2、责令立即改正；3、责令限期改正。此检查表一式三份。")
    outcome.append([paragraph(_("备注"), body), paragraph((data.remarks + "\n" if data.remarks else "") + note, small)])
    story += [_box(outcome, [3 * cm, 14 * cm]), Spacer(1, 0.2 * cm)]
    if data.signatures:
        signs = [
            [paragraph(s.role + "：" + s.name + (_("（代签）") if s.proxy_note else ""), small), _signature_cell(s, st)]
            for s in data.signatures
        ]
        table = Table(signs, colWidths=[8.5 * cm, 8.5 * cm], rowHeights=[SIG_H + 0.3 * cm] * len(signs))
        table.setStyle(TableStyle([*GRID]))
        story += [paragraph(_("签字"), body), table]
        story += [paragraph(_("代签：") + s.name + "，" + s.proxy_note, small) for s in data.signatures if s.proxy_note]
    if data.record_hash:
        story += [Spacer(1, 0.2 * cm), paragraph(_("记录指纹（SHA-256）：") + data.record_hash, small)]
    return story


def check_form_pdf(data: CheckForm) -> bytes:
    """The check form as PDF bytes: three copies, one A4 page each, each headed by its 联 label."""
    if not data.unit_name.strip():
        raise DocumentError(_("请填写被检查单位。"))
    if len(data.copy_labels) != COPIES or not all(label.strip() for label in data.copy_labels):
        raise DocumentError(_("检查表一式三份，每一联都必须写明用途。"))
    if not data.points:
        raise DocumentError(_("检查表至少要有一个检查事项。"))
    st = _compact_styles()
    story: list = []
    for n, label in enumerate(data.copy_labels):
        if n:
            story.append(PageBreak())
        story += _copy(data, label, st)
    return build(data.title, story)


# ------------------------------------------------------------------------------------------ from a record


def check_form_for(ctx: TaskContext) -> CheckForm | None:
    """The check form of the task's submitted record, else None."""
    insp = ctx.inspection
    if insp is None or insp.status != InspectionStatus.SUBMITTED or insp.result is None:
        return None
    task = ctx.task
    assignments = list(task.active_assignments)
    dept_org: dict[str, str] = {}
    for assignment in assignments:
        dept_org.setdefault(assignment.dept, assignment.inspector.org.name)
    if len(set(dept_org.values())) < len(dept_org):  # departments not told apart by organisation: official terms
        dept_org = {}

    def department(code: str) -> str:
        return dept_org.get(code) or str(DEPT.get(code, code))

    answers = answers_by_point(insp)
    checked = []
    for p in points(ctx):
        a = answers.get(p.id)
        checked.append(
            CheckedPoint(
                department=department(p.dept),
                text=p.text,
                answer=str(ANSWER_LABELS[a.answer]) if a and a.answer else "",
                note=(a.note or "") if a else "",
            )
        )
    signatures = []
    for slot in signing.slots(ctx):
        sig = slot.signature
        role = _("被检查单位随同人员") if slot.role == SignerRole.UNIT else _("执法检查人员")
        name = sig.signer_name if sig else ("" if slot.role == SignerRole.UNIT else slot.label)
        signatures.append(
            SignatureBox(
                role=role,
                name=name,
                png=signing.png_of(sig) if sig else None,
                refused_reason=(sig.refused_reason or _("未说明理由")) if sig and sig.refused else "",
                proxy_note=signing.proxy_note(sig) if sig else "",
            )
        )
    depts = list(dict.fromkeys(a.dept for a in assignments))
    joint = len(depts) > 1
    kind = _("联合执法检查表") if joint else _("执法检查表")
    title = task.item_version.name + (_("“双随机、一公开”") if task.draw_id else "") + kind
    when = insp.checkin_at or insp.submitted_at
    day = calendar.local_date(when) if when else task.planned_date
    unit = task.unit
    return CheckForm(
        title=title,
        unit_name=unit.name,
        uscc=unit.uscc or "",
        legal_rep=unit.legal_rep or "",
        address=unit.address or "",
        check_date=day,
        inspectors=[Inspector(a.inspector.name, a.inspector.org.name, a.inspector.cert_no or "") for a in assignments],
        points=checked,
        problems=[FoundProblem(f.text, f.legal_basis or "") for f in sorted(insp.findings, key=lambda f: f.seq)],
        result=str(RESULT_LABELS[insp.result]),
        category=str(CATEGORY_LABELS[insp.category]) if insp.category else "",
        remarks=insp.remarks or "",
        signatures=signatures,
        record_hash=insp.content_hash or "",
        copy_labels=default_copy_labels([department(d) for d in depts]),
    )
