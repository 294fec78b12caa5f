"""The record's shared base, used by services (check-in, checklist, result, submit), signing and photos.

Who works on a task (:class:`TaskContext`), the errors of the on-site pages, the draft-only rule, input
parsing, and the canonical content of a record with its hashes (what is submitted, and what a signature binds).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from webapp.calendar import SHANGHAI
from webapp.inspections.models import TRANSITIONS, CheckResult, Inspection, InspectionStatus, Signature
from webapp.registry.models import Inspector
from webapp.tasks.models import Task, TaskAssignment
from webapp.web import ConflictError, ServiceError


class InspectionError(ServiceError):
    """A rule of the record was broken; ``errors`` maps field names to Chinese messages (HTTP 422)."""


class Immutable(ConflictError, InspectionError):
    """The record was submitted: it can no longer be changed (HTTP 409)."""


class Conflict(ConflictError, InspectionError):
    """Same client UUID, different content (HTTP 409)."""


class SeenMismatch(Conflict):
    """A signature's ``seen`` (what the screen showed) differs from the stored record (HTTP 409, nothing stored);
    ``differences`` lists each difference in Chinese."""

    def __init__(self, message: str, differences: list[str]) -> None:
        super().__init__({"seen": message})
        self.differences = differences


@dataclass
class TaskContext:
    """The task as seen by one of its assigned inspectors, with the task's current record (if any)."""

    task: Task
    me: Inspector
    assignment: TaskAssignment
    inspection: Inspection | None = None
    partners: list[TaskAssignment] = field(default_factory=list)

    @property
    def is_lead(self) -> bool:
        return self.assignment.role == "lead"


def started(ctx: TaskContext) -> Inspection:
    """The task's record; InspectionError when the check has not been started."""
    if ctx.inspection is None:
        raise InspectionError(_("请先开始检查。"))
    return ctx.inspection


# The results that order rectification: they need a 不符合 point or a finding, and they are the only ones an order
# (责令立即改正 / 责令限期改正) may be issued on.
NEEDS_PROBLEMS = frozenset({CheckResult.IMMEDIATE, CheckResult.DEADLINE})


def calls_for_order(insp: Inspection | None) -> bool:
    """An order only on a submitted record whose result calls for one (the service's rule and the page's button)."""
    return insp is not None and insp.status == InspectionStatus.SUBMITTED and insp.result in NEEDS_PROBLEMS


def require_draft(insp: Inspection) -> None:
    if insp.status != InspectionStatus.DRAFT:
        raise Immutable(_("检查记录已提交，不能再修改；如需更正请新增补充记录。"))


def transition(insp: Inspection, new: InspectionStatus) -> None:
    if new not in TRANSITIONS[insp.status]:
        raise Immutable(_("检查记录已提交，不能再修改；如需更正请新增补充记录。"))
    insp.status = new


# ------------------------------------------------------------------------------------------- input


def parse_coord(raw: Any, limit: float) -> float | None:
    """A latitude (limit 90), longitude (180) or accuracy from form text; None when not a finite number in range."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return value


def parse_uuid(raw: Any) -> str:
    """The record's client UUID in canonical form; InspectionError on ``client_uuid`` otherwise."""
    try:
        return str(uuid.UUID(str(raw)))
    except (ValueError, TypeError, AttributeError):
        raise InspectionError({"client_uuid": _("记录编号无效，请刷新页面后重试。")}) from None


def optional_uuid(raw: Any) -> str | None:
    """A client id (``X-Client-Id`` or a form's ``client_uuid``) in canonical form; None when absent or invalid."""
    if not raw:
        return None
    try:
        return str(uuid.UUID(str(raw)))
    except (ValueError, TypeError, AttributeError):
        return None


def draft_uuid(secret: str | bytes, task_public_id: str, user_id: int) -> str:
    """The client UUID of the record this user starts on this task: the same on the task page and on the empty
    draft of the day's pack (so a check-in made offline and the submit queued after it name one record), and not
    guessable without the server's secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"checkin:{task_public_id}:{user_id}".encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


# ------------------------------------------------------------------------------------------- check-in time

# A phone's clock may run ahead a little; a check-in time further ahead of the server's receipt is not plausible.
CLOCK_SKEW = dt.timedelta(minutes=5)


def parse_device_time(raw: Any) -> dt.datetime | None:
    """The phone's clock (ISO 8601 with an offset) as UTC; None when absent, unreadable or without an offset."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(dt.UTC)


def checkin_time(
    device_at: dt.datetime | None, received_at: dt.datetime, earliest: dt.datetime | None
) -> tuple[dt.datetime, str | None]:
    """The check-in time to record and, when the phone's time was not taken, the note saying why.

    The phone's time counts when it is plausible: not after the receipt + ``CLOCK_SKEW`` and not before the task
    existed (``earliest``: its draw or creation). Otherwise the server's receipt time, with a note.
    """
    if device_at is None:
        return received_at, None
    if device_at <= received_at + CLOCK_SKEW and (earliest is None or device_at >= earliest):
        return device_at, None
    shown = device_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return received_at, _("手机时间（%(t)s）不可信，签到时间按服务器收到的时间记录。", t=shown)


# ------------------------------------------------------------------------------------------- content


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def content_of(insp: Inspection) -> dict:
    """The canonical content of a record: what is hashed, signed and shown. Photos and signatures by SHA-256."""
    return {
        "record": insp.client_uuid,
        "task": insp.task.public_id,
        "supersedes": insp.supersedes.client_uuid if insp.supersedes else None,
        "supersede_reason": insp.supersede_reason,
        "checkin": _checkin_content(insp),
        "partner": {
            "inspector": insp.partner_inspector.public_id if insp.partner_inspector else None,
            "presence": insp.partner_presence.value if insp.partner_presence else None,
        },
        "answers": sorted(
            (
                {
                    "point": a.point_id,
                    "answer": a.answer.value if a.answer else None,
                    "note": a.note,
                    "by": a.answered_by_id,
                }
                for a in insp.answers
            ),
            key=lambda d: d["point"],
        ),
        "findings": [
            {
                "seq": f.seq,
                "point": f.point_id,
                "text": f.text,
                "legal_basis": f.legal_basis,
                "photos": sorted(p.sha256 for p in f.photos),
            }
            for f in sorted(insp.findings, key=lambda f: f.seq)
        ],
        "photos": sorted(p.sha256 for p in insp.photos),
        "signatures": [_signature_content(s) for s in insp.signatures],
        "result": insp.result.value if insp.result else None,
        "category": insp.category.value if insp.category else None,
        "remarks": insp.remarks,
    }


def _checkin_content(insp: Inspection) -> dict:
    entry: dict[str, Any] = {
        "at": _iso(insp.checkin_at),
        "lat": insp.checkin_lat,
        "lon": insp.checkin_lon,
        "accuracy": insp.checkin_accuracy,
        "location_note": insp.location_note,
    }
    if insp.checkin_offline or insp.checkin_note:  # only then, so the content (and hash) of earlier records stays
        entry["offline"] = bool(insp.checkin_offline)
        entry["received_at"] = _iso(insp.checkin_received_at)
        entry["device_at"] = _iso(insp.checkin_device_at)
        entry["note"] = insp.checkin_note
    return entry


def _signature_content(s: Signature) -> dict:
    entry: dict[str, Any] = {
        "role": s.role.value,
        "signer": s.signer_name,
        "png_sha256": s.png_sha256,
        "binding_hash": s.binding_hash,
        "refused": s.refused,
        "refused_reason": s.refused_reason,
    }
    if s.proxy_reason:  # 代签; only then, so the content (and hash) of earlier records stays the same
        entry["proxy"] = {"by": s.proxy_by.public_id if s.proxy_by else None, "reason": s.proxy_reason}
    return entry


def hash_content(content: dict) -> str:
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def record_hash(insp: Inspection) -> str:
    """Hash of the record as it is now without its signatures: what a signature is bound to."""
    content = content_of(insp)
    del content["signatures"]
    return hash_content(content)
