"""Signatures on the record: the unit's accompanying person and each inspector, or a recorded refusal.

A signature is bound to :func:`record.record_hash` (the record without its signatures) at the time of
signing; when the record changes afterwards the signature no longer counts and must be given again.
The PNG is drawn from the kept strokes (webapp/inspections/signature_pad.py) once, when the signature is saved,
and stored by its SHA-256 (``Signature.png_key``); a view serves the stored bytes and never draws again.
Signatures saved before the PNG was stored are drawn on their first view and stored then (the caller commits).

代签: an inspector's signature given while another inspector is signed in (the lead's phone passed to the
partner, or the lead signing for the partner) needs a reason; who gave it and why are stored, audited, part of the
submitted content, and shown on the record page and the check form.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit, storage
from webapp.auth import access
from webapp.auth.models import User
from webapp.catalog.models import ChecklistPoint
from webapp.db import utcnow
from webapp.extensions import db
from webapp.inspections import signature_pad as pad
from webapp.inspections.labels import ANSWER_LABELS, CATEGORY_LABELS, RESULT_LABELS
from webapp.inspections.models import Answer, CheckResult, Inspection, PublishedCategory, Signature, SignerRole
from webapp.inspections.record import (
    Conflict,
    InspectionError,
    SeenMismatch,
    TaskContext,
    optional_uuid,
    parse_coord,
    record_hash,
    require_draft,
    started,
)

PNG = "png"  # storage extension of signature images
MIN_PROXY_REASON = 2
MAX_PROXY_REASON = 100


@dataclass
class Slot:
    """One signature the record needs, and the one given (if any, and whether it still matches)."""

    role: SignerRole
    label: str
    inspector_id: int | None
    signature: Signature | None
    current: bool
    for_other: bool = False  # another inspector than the one signed in: signing here is 代签

    @property
    def key(self) -> str:
        return "unit" if self.role == SignerRole.UNIT else f"inspector:{self.inspector_id}"


def _role_key(role: SignerRole, inspector_id: int | None) -> str:
    return "unit" if role == SignerRole.UNIT else f"inspector:{inspector_id}"


def slots(ctx: TaskContext) -> list[Slot]:
    insp = ctx.inspection
    now_hash = record_hash(insp) if insp else None
    latest: dict[str, Signature] = {}
    for s in insp.signatures if insp else []:
        latest[_role_key(s.role, s.inspector_id)] = s
    out = [
        Slot(SignerRole.UNIT, _("被检查单位随同人员"), None, latest.get("unit"), False),
        *[
            Slot(
                SignerRole.INSPECTOR,
                a.inspector.name,
                a.inspector_id,
                latest.get(f"inspector:{a.inspector_id}"),
                False,
                for_other=a.inspector_id != ctx.me.id,
            )
            for a in ctx.task.active_assignments
        ],
    ]
    for slot in out:
        slot.current = slot.signature is not None and slot.signature.record_hash == now_hash
    return out


def missing(ctx: TaskContext) -> list[Slot]:
    return [s for s in slots(ctx) if not s.current]


def _number(raw: Any) -> float | None:
    """Form text to a number for the pad's checks (which refuse anything else)."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _proxy_reason(raw: Any) -> str:
    text = " ".join(raw.split()) if isinstance(raw, str) else ""
    if len(text) < MIN_PROXY_REASON:
        raise InspectionError({"proxy_reason": _("为其他检查人员代签，须填写代签原因。")})
    if len(text) > MAX_PROXY_REASON:
        raise InspectionError({"proxy_reason": _("代签原因不能超过%(n)s个字。", n=MAX_PROXY_REASON)})
    return text


def sign(
    user: User,
    ctx: TaskContext,
    role: Any,
    *,
    inspector_id: Any = None,
    signer_name: Any = None,
    strokes: Any = None,
    width: Any = None,
    height: Any = None,
    refused: bool = False,
    reason: Any = None,
    proxy_reason: Any = None,
    lat: Any = None,
    lon: Any = None,
    client_uuid: Any = None,
    seen: Any = None,
    points: list[ChecklistPoint] | None = None,
) -> Signature:
    """Record one signer's signature (or the unit's refusal). An inspector's signature given while another
    inspector is signed in is 代签 and needs ``proxy_reason``.

    ``client_uuid`` (made on the phone) makes a retry the same signature (other content under the same id is a
    Conflict). ``seen`` is what the screen showed when signing (JSON, see :func:`seen_of`): when the stored
    record differs, nothing is stored and :class:`SeenMismatch` lists the differences (``points``: the
    checklist, to number them as the page does).
    """
    insp = started(ctx)
    cu = optional_uuid(client_uuid)
    existing = (
        db.session.execute(select(Signature).where(Signature.client_uuid == cu)).scalar_one_or_none() if cu else None
    )
    if existing is None:
        require_draft(insp)
    try:
        r = SignerRole(role)
    except ValueError:
        raise InspectionError({"role": _("签字人身份无效。")}) from None
    inspector = None
    if r == SignerRole.INSPECTOR:
        iid = int(inspector_id) if str(inspector_id or "").isdigit() else ctx.me.id
        assignment = next((a for a in ctx.task.active_assignments if a.inspector_id == iid), None)
        if assignment is None:
            raise InspectionError({"role": _("只有本任务的检查人员可以作为检查人员签字。")})
        inspector = assignment.inspector
        name = inspector.name
    else:
        name = " ".join(signer_name.split()) if isinstance(signer_name, str) else ""
        if not name:
            raise InspectionError({"signer_name": _("请填写签字人姓名。")})
        if len(name) > 50:
            raise InspectionError({"signer_name": _("姓名不能超过50个字。")})
    if refused and r == SignerRole.INSPECTOR:
        raise InspectionError({"role": _("检查人员不能拒绝签字。")})
    proxy_why = _proxy_reason(proxy_reason) if inspector is not None and inspector.id != ctx.me.id else None
    key = _role_key(r, inspector.id if inspector else None)
    try:
        refusal = pad.refusal(reason) if refused else None
        valid = None if refused else pad.validate(strokes or "", _number(width), _number(height))
    except pad.SignatureError as exc:
        raise InspectionError({"reason" if refused else "strokes": exc.message}) from None
    if existing is not None:
        same = (
            existing.inspection_id == insp.id
            and _role_key(existing.role, existing.inspector_id) == key
            and existing.signer_name == name
            and existing.refused == bool(refused)
            and (
                existing.refused_reason == refusal.reason
                if refusal is not None
                else valid is not None and existing.png_sha256 == valid.png_sha256
            )
        )
        if not same:
            raise Conflict(_("这个签字的编号已用于另一签字，未作合并。请刷新页面后重新签字。"))
        return existing  # a retry of a signature already stored
    if seen not in (None, ""):
        check_seen(insp, seen, points or [])
    rec_hash = record_hash(insp)
    signed_at = utcnow()
    if refusal is not None:
        binding = pad.refusal_binding_hash(rec_hash, refusal.reason, key, signed_at)
        sig = Signature(refused=True, refused_reason=refusal.reason)
    else:
        assert valid is not None
        binding = pad.binding_hash(rec_hash, valid.canonical_json, key, signed_at)
        sig = Signature(
            refused=False,
            png_sha256=valid.png_sha256,
            strokes=valid.strokes,
            canvas_width=valid.width,
            canvas_height=valid.height,
        )
        store_png(sig, valid.png)  # drawn once, here; views serve these bytes
    # a new signature replaces the same signer's earlier one in the draft
    for old in [s for s in insp.signatures if _role_key(s.role, s.inspector_id) == key]:
        insp.signatures.remove(old)
        db.session.delete(old)
    sig.client_uuid = cu
    sig.inspection_id = insp.id
    sig.role = r
    sig.inspector_id = inspector.id if inspector else None
    sig.signer_name = name
    sig.record_hash = rec_hash
    sig.binding_hash = binding
    sig.signed_at = signed_at
    sig.lat, sig.lon = parse_coord(lat, 90), parse_coord(lon, 180)
    sig.created_by_id = user.id
    if proxy_why is not None:
        sig.proxy_by_id, sig.proxy_reason = ctx.me.id, proxy_why
    db.session.add(sig)
    insp.signatures.append(sig)
    db.session.flush()
    details: dict[str, Any] = {"signer": key, "name": name, "binding_hash": binding, "record_hash": rec_hash}
    if cu:
        details["client_uuid"] = cu
    if proxy_why is not None:
        details["proxy_by"] = ctx.me.name  # 代签
    audit.record(
        user,
        "inspection.refuse_sign" if refused else "inspection.sign",
        insp,
        details,
        reason=sig.refused_reason or sig.proxy_reason,
    )
    return sig


# ------------------------------------------------------------------------------ what the signer saw


def _text(value: Any) -> str:
    """Free text as the screen and the server both hold it: CRLF as LF, stripped."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else ""


def seen_of(insp: Inspection) -> dict:
    """The record as the signing screen shows it, in the shape of the ``seen`` field the page sends:
    ``{"answers": {"<point_id>": {"answer": "complies|fails|na|", "note": …}}, "findings": [text, …],
    "result": "", "category": "", "remarks": ""}``; answers only for points with an answer or a note,
    findings in their order on the page."""
    answers = {}
    for a in insp.answers:
        note = _text(a.note)
        if a.answer is not None or note:
            answers[str(a.point_id)] = {"answer": a.answer.value if a.answer else "", "note": note}
    return {
        "answers": answers,
        "findings": [_text(f.text) for f in sorted(insp.findings, key=lambda f: f.seq)],
        "result": insp.result.value if insp.result else "",
        "category": insp.category.value if insp.category else "",
        "remarks": _text(insp.remarks),
    }


class SeenUnreadable(ValueError):
    """The ``seen`` field is not the object the page sends."""


def parse_seen(raw: Any) -> dict:
    """The page's ``seen`` JSON in the shape of :func:`seen_of` (texts normalised, empty answers left out)."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise SeenUnreadable from None
    if not isinstance(data, dict):
        raise SeenUnreadable
    answers_in = data.get("answers") or {}
    findings_in = data.get("findings") or []
    if not isinstance(answers_in, dict) or not isinstance(findings_in, list):
        raise SeenUnreadable
    answers = {}
    for pid, entry in answers_in.items():
        if not isinstance(entry, dict):
            raise SeenUnreadable
        value = entry.get("answer") or ""
        if not isinstance(value, str):
            raise SeenUnreadable
        note = _text(entry.get("note"))
        if value or note:
            answers[str(pid)] = {"answer": value, "note": note}
    return {
        "answers": answers,
        "findings": [_text(f) for f in findings_in],
        "result": _code(data.get("result")),
        "category": _code(data.get("category")),
        "remarks": _text(data.get("remarks")),
    }


def _code(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise SeenUnreadable
    return value


def _label(table: dict, enum_cls: type, value: str, empty: str) -> str:
    if not value:
        return empty
    try:
        return str(table[enum_cls(value)])
    except (ValueError, KeyError):
        return value


def _quoted(text: str, n: int = 40) -> str:
    return "“" + (text if len(text) <= n else text[:n] + "…") + "”"


def seen_differences(screen: dict, server: dict, numbers: dict[str, int]) -> list[str]:
    """Each difference between what the screen showed (``screen``) and the stored record (``server``), both in
    the shape of :func:`seen_of`, in Chinese. ``numbers`` maps a point id to its number on the page (第N项)."""
    out: list[str] = []
    unset, empty = _("未选择"), _("空")
    pids = sorted(set(screen["answers"]) | set(server["answers"]), key=lambda p: (numbers.get(p, 10**9), p))
    blank = {"answer": "", "note": ""}
    for pid in pids:
        mine, theirs = screen["answers"].get(pid, blank), server["answers"].get(pid, blank)
        item = _("第%(n)s项", n=numbers[pid]) if pid in numbers else _("检查项%(id)s", id=pid)
        if mine["answer"] != theirs["answer"]:
            out.append(
                _(
                    "%(item)s：屏幕上为“%(screen)s”，服务器上为“%(server)s”",
                    item=item,
                    screen=_label(ANSWER_LABELS, Answer, mine["answer"], unset),
                    server=_label(ANSWER_LABELS, Answer, theirs["answer"], unset),
                )
            )
        if mine["note"] != theirs["note"]:
            out.append(
                _(
                    "%(item)s备注：屏幕上为%(screen)s，服务器上为%(server)s",
                    item=item,
                    screen=_quoted(mine["note"]) if mine["note"] else empty,
                    server=_quoted(theirs["note"]) if theirs["note"] else empty,
                )
            )
    on_screen, on_server = Counter(screen["findings"]), Counter(server["findings"])
    for text in screen["findings"]:
        if on_screen[text] > on_server[text]:
            out.append(_("问题%(text)s在服务器上没有", text=_quoted(text)))
            on_screen[text] -= 1
    for text in server["findings"]:
        if on_server[text] > on_screen[text]:
            out.append(_("服务器上有问题%(text)s，屏幕上没有", text=_quoted(text)))
            on_server[text] -= 1
    for key, title, table, enum_cls in (
        ("result", _("检查结果"), RESULT_LABELS, CheckResult),
        ("category", _("公示结果类别"), CATEGORY_LABELS, PublishedCategory),
    ):
        if screen[key] != server[key]:
            out.append(
                _(
                    "%(title)s：屏幕上为“%(screen)s”，服务器上为“%(server)s”",
                    title=title,
                    screen=_label(table, enum_cls, screen[key], unset),
                    server=_label(table, enum_cls, server[key], unset),
                )
            )
    if screen["remarks"] != server["remarks"]:
        out.append(
            _(
                "备注：屏幕上为%(screen)s，服务器上为%(server)s",
                screen=_quoted(screen["remarks"]) if screen["remarks"] else empty,
                server=_quoted(server["remarks"]) if server["remarks"] else empty,
            )
        )
    return out


def check_seen(insp: Inspection, seen: Any, points: list[ChecklistPoint]) -> None:
    """Refuse the signature (:class:`SeenMismatch`, 409) when the stored record differs from what the screen
    showed; an unreadable ``seen`` is refused with 422."""
    try:
        screen = parse_seen(seen)
    except SeenUnreadable:
        raise InspectionError({"seen": _("无法读取签字时屏幕上的内容，请刷新页面后重新签字。")}) from None
    numbers = {str(p.id): n for n, p in enumerate(points, start=1)}
    differences = seen_differences(screen, seen_of(insp), numbers)
    if differences:
        raise SeenMismatch(
            _("签字未保存：服务器上的记录与签字时屏幕上显示的不一致。请刷新页面核对以下内容后重新签字。"),
            differences,
        )


def signature_for(user: User, token: str) -> Signature | None:
    sig = db.session.execute(select(Signature).where(Signature.public_id == token)).scalar_one_or_none()
    if sig is None:
        return None
    return sig if access.can_view_record_media(user, sig.inspection) else None


def store_png(sig: Signature, png: bytes) -> None:
    """Keep the signature's PNG in storage (content-addressed) and remember its key on the signature."""
    sig.png_key = storage.put(png, PNG)


def png_of(sig: Signature) -> bytes | None:
    """The signature's PNG from storage. A signature saved before PNGs were stored (or whose file was lost) is
    drawn once from its strokes, at the size it was signed at, and stored: ``png_key`` is then set and the
    caller commits."""
    if sig.refused or not sig.strokes or sig.canvas_width is None or sig.canvas_height is None:
        return None
    if sig.png_key:
        try:
            return storage.get(sig.png_key, PNG)
        except (FileNotFoundError, ValueError):  # missing from storage: draw it again below
            pass
    png = pad.render_png(sig.strokes, sig.canvas_width, sig.canvas_height)
    store_png(sig, png)
    return png


def proxy_note(sig: Signature) -> str:
    """The 代签 line (who signed for the signer, and why) for the record page and the check form; empty if none."""
    if not sig.proxy_reason:
        return ""
    who = sig.proxy_by.name if sig.proxy_by is not None else ""
    return _("由%(who)s代签，原因：%(why)s", who=who, why=sig.proxy_reason)
