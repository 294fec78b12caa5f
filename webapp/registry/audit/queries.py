"""审计日志: reading the audit trail for people (queries and the one presenter; no request access).

:func:`present` turns raw events into what a person reads (Chinese action, names instead of ids, field
changes); the audit log page, the unit history and the inspector history all go through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp import audit
from webapp.audit import AuditEvent
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.extensions import db
from webapp.registry.audit.labels import ACTION_LABELS, SUBJECT_LABELS
from webapp.registry.labels import (
    CREDIT_LEVEL,
    INSPECTOR_FIELD,
    INSPECTOR_STATUS,
    RISK_LEVEL,
    UNIT_CLASS,
    UNIT_FIELD,
    UNIT_STATUS,
)
from webapp.registry.models import Inspector, Unit

_VALUE_LABELS: dict[str, Mapping] = {
    "unit_class": UNIT_CLASS,
    "risk_level": RISK_LEVEL,
    "credit_level": CREDIT_LEVEL,
    "status": UNIT_STATUS,
}
# Per subject kind: field names, value labels that differ, keys kept in the data but not shown.
_FIELD_LABELS: dict[str, Mapping] = {"unit": UNIT_FIELD, "inspector": INSPECTOR_FIELD}
_SUBJECT_VALUE_LABELS: dict[str, dict[str, Mapping]] = {"inspector": {"status": INSPECTOR_STATUS}}
_HIDDEN_KEYS: dict[str, tuple[str, ...]] = {"inspector": ("period_id", "conflict_id", "unit_id")}
# Keys other modules put into event data.
_EXTRA_LABELS: dict[str, Any] = {
    "ip": _l("IP地址"),
    "username": _l("用户名"),
    "role": _l("角色"),
    "display_name": _l("姓名"),
}
_PREFIX_RE = re.compile(r"^[a-z_]+\.?$")
_SUBJECT_RE = re.compile(r"^[a-z_]{1,40}:[0-9A-Za-z_\-]{1,60}$")


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


@dataclass
class AuditFilters:
    action: str = ""  # an action prefix such as "unit." (or a full code)
    subject_type: str = ""
    subject_id: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilters:
        action = (args.get("action") or "").strip()
        subject = (args.get("subject") or "").strip()
        f = cls(action=action if _PREFIX_RE.match(action) else "")
        if _SUBJECT_RE.match(subject):
            f.subject_type, f.subject_id = subject.split(":", 1)
        return f

    @property
    def subject(self) -> str:
        return f"{self.subject_type}:{self.subject_id}" if self.subject_type else ""

    def to_args(self) -> dict[str, str]:
        out = {}
        if self.action:
            out["action"] = self.action
        if self.subject:
            out["subject"] = self.subject
        return out


@dataclass
class Change:
    label: str
    old: str | None = None
    new: str | None = None
    is_diff: bool = True


@dataclass
class EventView:
    event: AuditEvent
    action_label: str
    actor: str
    subject_label: str
    subject_type: str
    unit_public_id: str | None = None  # set when the subject is a unit the viewer may open
    changes: list[Change] = field(default_factory=list)


@dataclass
class AuditPage:
    events: list[EventView]
    next_after: int | None


def _scoped(user: User):
    stmt = select(AuditEvent)
    ids = visible_org_ids(user)
    if ids is not None:
        stmt = stmt.where(AuditEvent.org_id.in_(sorted(ids)))
    return stmt


def list_events(user: User, f: AuditFilters, after: int | None = None, page_size: int = 50) -> AuditPage:
    """Events of the user's organisation subtree (admin: all), newest first, keyset-paged on the id."""
    stmt = _scoped(user)
    if f.action:
        stmt = stmt.where(AuditEvent.action.startswith(f.action, autoescape=True))
    if f.subject_type:
        stmt = stmt.where(AuditEvent.subject_type == f.subject_type, AuditEvent.subject_id == f.subject_id)
    if after is not None:
        stmt = stmt.where(AuditEvent.id < after)
    rows = list(db.session.execute(stmt.order_by(AuditEvent.id.desc()).limit(page_size + 1)).scalars())
    more = len(rows) > page_size
    rows = rows[:page_size]
    return AuditPage(events=present(user, rows), next_after=rows[-1].id if more and rows else None)


def subject_title(user: User, f: AuditFilters) -> str | None:
    """A readable name for the subject filter (e.g. the unit's name)."""
    if not f.subject_type:
        return None
    views = present(user, [AuditEvent(subject_type=f.subject_type, subject_id=f.subject_id, data="{}", actor_name="")])
    return views[0].subject_label


def _int_ids(events: list[AuditEvent], subject_type: str) -> set[int]:
    return {int(e.subject_id) for e in events if e.subject_type == subject_type and e.subject_id.isdigit()}


def present(user: User, events: list[AuditEvent]) -> list[EventView]:
    """Turn raw events into what a person reads: Chinese action, names instead of ids, field changes."""
    visible = visible_org_ids(user)
    unit_ids = _int_ids(events, "unit")
    units = {
        r.id: r
        for r in db.session.execute(
            select(Unit.id, Unit.public_id, Unit.name, Unit.org_id).where(Unit.id.in_(sorted(unit_ids) or [0]))
        )
    }
    user_ids = _int_ids(events, "user") | {e.actor_id for e in events if e.actor_id is not None}
    users = dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(sorted(user_ids) or [0]))).all()
    )
    insp_ids = _int_ids(events, "inspector")
    inspectors = dict(
        db.session.execute(select(Inspector.id, Inspector.name).where(Inspector.id.in_(sorted(insp_ids) or [0]))).all()
    )
    org_ids = _int_ids(events, "organisation") | _org_ids_in_changes(events)
    orgs = dict(
        db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(org_ids) or [0]))
        ).all()
    )

    out = []
    for ev in events:
        kind = str(SUBJECT_LABELS.get(ev.subject_type, ev.subject_type))
        view = EventView(
            event=ev,
            action_label=action_label(ev.action or ""),
            actor=_actor(ev, users),
            subject_label=f"{kind} #{ev.subject_id}",
            subject_type=kind,
        )
        sid = int(ev.subject_id) if ev.subject_id.isdigit() else None
        if ev.subject_type == "unit" and sid in units:
            u = units[sid]
            view.subject_label = u.name
            if visible is None or u.org_id in visible:
                view.unit_public_id = u.public_id
        elif ev.subject_type == "user" and sid in users:
            view.subject_label = users[sid]
        elif ev.subject_type == "inspector" and sid in inspectors:
            view.subject_label = inspectors[sid]
        elif ev.subject_type == "organisation" and sid in orgs:
            view.subject_label = orgs[sid]
        view.changes = _changes(ev, orgs)
        out.append(view)
    return out


def _actor(ev: AuditEvent, users: Mapping[int, str]) -> str:
    if ev.actor_id is None:
        return ev.actor_name if ev.actor_name and ev.actor_name != "system" else _("系统")
    name = users.get(ev.actor_id)
    return f"{name}（{ev.actor_name}）" if name and name != ev.actor_name else ev.actor_name


def _org_ids_in_changes(events: list[AuditEvent]) -> set[int]:
    ids: set[int] = set()
    for ev in events:
        pair = payload(ev).get("org_id")
        values = pair if isinstance(pair, list) else [pair]
        ids |= {v for v in values if isinstance(v, int)}
    return ids


def payload(ev: AuditEvent) -> dict:
    try:
        data = ev.payload
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(name: str, v: Any, orgs: Mapping[int, str], subject_type: str) -> str:
    if v is None or v == "":
        return _("（空）")
    if isinstance(v, bool):
        return _("是") if v else _("否")
    if name == "org_id" and isinstance(v, int):
        return orgs.get(v, str(v))
    labels = _SUBJECT_VALUE_LABELS.get(subject_type, {}).get(name) or _VALUE_LABELS.get(name)
    if labels is not None and v in labels:
        return str(labels[v])
    return str(v)


def _changes(ev: AuditEvent, orgs: Mapping[int, str]) -> list[Change]:
    """``{field: [old, new]}`` as readable lines; for a creation only the values that were set."""
    created = (ev.action or "").endswith(".created")
    kind = ev.subject_type or ""
    fields = _FIELD_LABELS.get(kind, UNIT_FIELD)
    hidden = _HIDDEN_KEYS.get(kind, ())
    out = []
    for name, v in payload(ev).items():
        if name in hidden:
            continue
        label = str(fields.get(name) or _EXTRA_LABELS.get(name) or name)
        if isinstance(v, list) and len(v) == 2:
            if created and v[0] is None:
                out.append(Change(label, new=_value(name, v[1], orgs, kind), is_diff=False))
            else:
                out.append(Change(label, _value(name, v[0], orgs, kind), _value(name, v[1], orgs, kind)))
        else:
            out.append(Change(label, new=_value(name, v, orgs, kind), is_diff=False))
    return out


def history(user: User, subject: Unit | Inspector, limit: int = 200) -> list[EventView]:
    """The audit events of one unit or inspector, newest first, presented (the detail pages' history)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject.__tablename__, AuditEvent.subject_id == str(subject.id))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return present(user, list(db.session.execute(stmt).scalars()))


@dataclass
class ChainCheck:
    ok: bool
    total: int
    problems: list[str]


def verify_chain(limit: int = 20) -> ChainCheck:
    """Recompute the whole hash chain (O(n): run only when asked) and describe breaks in Chinese."""
    problems = audit.verify()
    total = db.session.execute(select(func.count(AuditEvent.id))).scalar_one()
    messages = []
    for p in problems[:limit]:
        if p.kind == "anchor":
            day = p.anchor_day.isoformat() if p.anchor_day else ""
            messages.append(_("事件 #%(id)s 与%(day)s的审计日志校验值不符（记录被删除或改写）", id=p.event_id, day=day))
        elif p.kind == "anchor-copy":
            day = p.anchor_day.isoformat() if p.anchor_day else ""
            messages.append(_("%(day)s的审计日志校验值在存储与数据库中的副本不一致或缺失", day=day))
        elif "edited" in p.message:
            messages.append(_("事件 #%(id)s 的内容与其哈希不符（记录被修改）", id=p.event_id))
        elif "broken" in p.message:
            messages.append(_("事件 #%(id)s 与前一事件的链接断开（有记录被删除或插入）", id=p.event_id))
        else:
            messages.append(_("事件 #%(id)s 校验失败", id=p.event_id))
    return ChainCheck(ok=not problems, total=total, problems=messages)
