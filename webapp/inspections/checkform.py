"""The joint check form (《“双随机、一公开”联合执法检查表》, seed 002) as a PDF in three copies (三联).

``check_form_pdf(data)`` is a pure builder: plain dataclasses in, PDF bytes out (A4, STSong-Light, the helpers of
webapp/documents/pdf.py). Each copy is one page headed by its 联 label, e.g. 第一联 消防救援机构存档 /
第二联 市场监督管理部门存档 / 第三联 交被检查单位 — the seed: 一式三份，被检查单位、消防救援大队、市场监督管理局各一份.

``check_form_for(ctx)`` fills the dataclasses from a submitted inspection record (database, no request).
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

from webapp.documents.pdf import Inspector, NoticeError, _build, _date, _inspector_table, _p, _styles

COPIES = 3
SIG_W = 3.6 * cm
SIG_H = 1.3 * cm
GRID = [
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


def _compact_styles() -> dict[str, ParagraphStyle]:
    """The notices' styles, smaller: one copy of the form fits on one A4 page."""
    st = _styles()
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


def _signature_cell(sig: SignatureBox, st) -> Any:
    if sig.refused_reason:
        return _p(_("拒绝签字：") + sig.refused_reason, st["small"])
    if sig.png:
        return _signature_image(sig.png)
    return ""


def _copy(data: CheckForm, label: str, st) -> list:
    body, small = st["body"], st["small"]
    story: list = [
        _p(label, st["right"]),
        _p(data.title, st["number"]),
        _p(_("检查时间：") + _date(data.check_date), st["body"]),
        Spacer(1, 0.2 * cm),
        _p(_("执法检查人员"), body),
        _inspector_table(data.inspectors, st),
        Spacer(1, 0.2 * cm),
    ]
    unit = [
        [_p(_("检查对象名称"), body), _p(data.unit_name, body)],
        [_p(_("统一社会信用代码/注册号"), body), _p(data.uscc or "—", body)],
        [_p(_("法定代表人/负责人"), body), _p(data.legal_rep or "—", body)],
        [_p(_("地址"), body), _p(data.address or "—", body)],
    ]
    story += [_box(unit, [5 * cm, 12 * cm]), Spacer(1, 0.2 * cm)]
    rows = [[_p(_("检查单位"), body), _p(_("检查事项"), body), _p(_("检查结果"), body)]]
    for point in data.points:
        text = point.text + (("\n" + _("说明：") + point.note) if point.note else "")
        rows.append([_p(point.department, small), _p(text, small), _p(point.answer or "—", body)])
    story += [_box(rows, [4 * cm, 10.5 * cm, 2.5 * cm], header=True), Spacer(1, 0.2 * cm)]
    problems = "\n".join(
        f"{n}. {p.description}" + (_("（%(law)s）", law=p.legal_basis) if p.legal_basis else "")
        for n, p in enumerate(data.problems, start=1)
    ) or _("无")
    outcome = [
        [_p(_("发现问题"), body), _p(problems, small)],
        [_p(_("检查结果"), body), _p(data.result, body)],
    ]
    if data.category:
        outcome.append([_p(_("公示结果类别"), body), _p(data.category, body)])
    note = _("检查结果分别为：1、未发现问题；2、责令立即改正；3、责令限期改正。此检查表一式三份。")
    outcome.append([_p(_("备注"), body), _p((data.remarks + "\n" if data.remarks else "") + note, small)])
    story += [_box(outcome, [3 * cm, 14 * cm]), Spacer(1, 0.2 * cm)]
    if data.signatures:
        signs = [[_p(s.role + "：" + s.name, small), _signature_cell(s, st)] for s in data.signatures]
        table = Table(signs, colWidths=[8.5 * cm, 8.5 * cm], rowHeights=[SIG_H + 0.3 * cm] * len(signs))
        table.setStyle(TableStyle([*GRID]))
        story += [_p(_("签字"), body), table]
    if data.record_hash:
        story += [Spacer(1, 0.2 * cm), _p(_("记录指纹（SHA-256）：") + data.record_hash, small)]
    return story


def check_form_pdf(data: CheckForm) -> bytes:
    """The check form as PDF bytes: three copies, one A4 page each, each headed by its 联 label."""
    if not data.unit_name.strip():
        raise NoticeError(_("请填写被检查单位。"))
    if len(data.copy_labels) != COPIES or not all(label.strip() for label in data.copy_labels):
        raise NoticeError(_("检查表一式三份，每一联都必须写明用途。"))
    if not data.points:
        raise NoticeError(_("检查表至少要有一个检查事项。"))
    st = _compact_styles()
    story: list = []
    for n, label in enumerate(data.copy_labels):
        if n:
            story.append(PageBreak())
        story += _copy(data, label, st)
    return _build(data.title, story)


# ------------------------------------------------------------------------------------------ from a record


def check_form_for(ctx: Any) -> CheckForm | None:
    """The check form of the task's submitted record (``ctx``: inspections.services.TaskContext), else None."""
    from zoneinfo import ZoneInfo

    from webapp.inspections import signing
    from webapp.inspections.models import InspectionStatus, SignerRole
    from webapp.inspections.services import ANSWER_LABELS, CATEGORY_LABELS, RESULT_LABELS, answers_by_point, points
    from webapp.registry.labels import DEPT

    insp = ctx.inspection
    if insp is None or insp.status != InspectionStatus.SUBMITTED or insp.result is None:
        return None
    task = ctx.task
    assignments = list(task.active_assignments)
    dept_org: dict[str, str] = {}
    for a in assignments:
        dept_org.setdefault(a.dept, a.inspector.org.name)
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
                answer=ANSWER_LABELS[a.answer]() if a and a.answer else "",
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
            )
        )
    depts = list(dict.fromkeys(a.dept for a in assignments))
    joint = len(depts) > 1
    kind = _("联合执法检查表") if joint else _("执法检查表")
    title = task.item_version.name + (_("“双随机、一公开”") if task.draw_id else "") + kind
    when = insp.checkin_at or insp.submitted_at
    day = when.astimezone(ZoneInfo("Asia/Shanghai")).date() if when else task.planned_date
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
        result=RESULT_LABELS[insp.result](),
        category=CATEGORY_LABELS[insp.category]() if insp.category else "",
        remarks=insp.remarks or "",
        signatures=signatures,
        record_hash=insp.content_hash or "",
        copy_labels=default_copy_labels([department(d) for d in depts]),
    )
