"""Signatures on the record: the unit's accompanying person and each inspector, or a recorded refusal.

A signature is bound to :func:`record.record_hash` (the record without its signatures) at the time of
signing; when the record changes afterwards the signature no longer counts and must be given again.
The PNG is drawn from the kept strokes (webapp/inspections/signature_pad.py), so only the strokes are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit
from webapp.auth import access
from webapp.auth.models import User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.inspections import signature_pad as pad
from webapp.inspections.models import Signature, SignerRole
from webapp.inspections.record import InspectionError, TaskContext, parse_coord, record_hash, require_draft, started


@dataclass
class Slot:
    """One signature the record needs, and the one given (if any, and whether it still matches)."""

    role: SignerRole
    label: str
    inspector_id: int | None
    signature: Signature | None
    current: bool

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
                SignerRole.INSPECTOR, a.inspector.name, a.inspector_id, latest.get(f"inspector:{a.inspector_id}"), False
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
    lat: Any = None,
    lon: Any = None,
) -> Signature:
    insp = started(ctx)
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
    key = _role_key(r, inspector.id if inspector else None)
    rec_hash = record_hash(insp)
    signed_at = utcnow()
    try:
        if refused:
            refusal = pad.refusal(reason)
            binding = pad.refusal_binding_hash(rec_hash, refusal.reason, key, signed_at)
            sig = Signature(refused=True, refused_reason=refusal.reason)
        else:
            valid = pad.validate(strokes or "", _number(width), _number(height))
            binding = pad.binding_hash(rec_hash, valid.canonical_json, key, signed_at)
            sig = Signature(
                refused=False,
                png_sha256=valid.png_sha256,
                strokes=valid.strokes,
                canvas_width=valid.width,
                canvas_height=valid.height,
            )
    except pad.SignatureError as exc:
        raise InspectionError({"reason" if refused else "strokes": exc.message}) from None
    # a new signature replaces the same signer's earlier one in the draft
    for old in [s for s in insp.signatures if _role_key(s.role, s.inspector_id) == key]:
        insp.signatures.remove(old)
        db.session.delete(old)
    sig.inspection_id = insp.id
    sig.role = r
    sig.inspector_id = inspector.id if inspector else None
    sig.signer_name = name
    sig.record_hash = rec_hash
    sig.binding_hash = binding
    sig.signed_at = signed_at
    sig.lat, sig.lon = parse_coord(lat, 90), parse_coord(lon, 180)
    sig.created_by_id = user.id
    db.session.add(sig)
    insp.signatures.append(sig)
    db.session.flush()
    audit.record(
        user,
        "inspection.refuse_sign" if refused else "inspection.sign",
        insp,
        {"signer": key, "name": name, "binding_hash": binding, "record_hash": rec_hash},
        reason=sig.refused_reason,
    )
    return sig


def signature_for(user: User, token: str) -> Signature | None:
    sig = db.session.execute(select(Signature).where(Signature.public_id == token)).scalar_one_or_none()
    if sig is None:
        return None
    return sig if access.can_view_record_media(user, sig.inspection) else None


def png_of(sig: Signature) -> bytes | None:
    if sig.refused or not sig.strokes or sig.canvas_width is None or sig.canvas_height is None:
        return None
    return pad.render_png(sig.strokes, sig.canvas_width, sig.canvas_height)
