"""Authentication and the user rules (no Flask request objects here; callers commit).

The one set of user rules: the admin pages, the ``create-user`` command and the demo all go through
:func:`create_user`, :func:`update_user`, :func:`reset_password` and :func:`set_user_active`.
:func:`toggle_active` is the one deactivate/reactivate flow (users, organisations, items): a reason is
required, the record must not be in that state already, and an audit event ``<kind>.deactivated`` /
``<kind>.reactivated`` is written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from webapp import audit
from webapp.auth.models import Organisation, Role, User, UserSession
from webapp.db import utcnow
from webapp.extensions import db
from webapp.web import ServiceError

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,49}$")
MIN_PASSWORD = 10

# A hash computed once so unknown usernames cost the same time as known ones.
_DUMMY = User(username="-", display_name="-", role=Role.INSPECTOR, org_id=0)
_DUMMY.set_password("not-a-real-password")


class Invalid(ServiceError):
    """A user (or activation) rule was broken; ``errors`` maps field names to Chinese messages."""


# ------------------------------------------------------------------------------------------- login


def authenticate(username: str, password: str) -> User | None:
    user = db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        _DUMMY.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


SESSION_ROWS_KEPT = dt.timedelta(days=90)  # a session row untouched by logout is dropped after this


def start_session(user: User) -> str:
    """Record a new logged-in session of ``user``; returns its id for the session cookie. The caller commits.

    The user's session rows older than :data:`SESSION_ROWS_KEPT` are dropped here (browsers closed without
    logging out), so the table stays small without a cleanup job.
    """
    sid = secrets.token_urlsafe(32)
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.created_at < utcnow() - SESSION_ROWS_KEPT)
    )
    db.session.add(UserSession(id=sid, user_id=user.id))
    return sid


def session_is_live(user_id: int, sid: object) -> bool:
    """Whether the session ``sid`` of the user has not been ended by logout."""
    if not isinstance(sid, str) or not sid:
        return False
    row = db.session.get(UserSession, sid)
    return row is not None and row.user_id == user_id


def end_session(sid: object) -> None:
    """Logout: the session's id no longer logs anybody in. The caller commits."""
    if isinstance(sid, str) and sid:
        db.session.execute(delete(UserSession).where(UserSession.id == sid))


def change_password(user: User, current: str, new: str) -> bool:
    """Set a new password and log out every other session (auth_version bump). The caller commits."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    user.auth_version += 1
    user.password_changed_at = utcnow()
    audit.record(user, "user.password_changed", user, {}, org_id=user.org_id)
    return True


# ------------------------------------------------------------------------------- activate / deactivate


class HasActive(Protocol):
    active: bool


def toggle_active(
    actor: User | None,
    subject: HasActive,
    active: bool,
    reason: str | None,
    *,
    kind: str,
    already: str,
    org_id: int | None = None,
    refuse: Callable[[], str | None] | None = None,
) -> None:
    """Deactivate (never delete) or reactivate ``subject`` with a reason; audited ``<kind>.(de|re)activated``.

    ``already`` is the message when the subject is in that state already; ``refuse`` returns a message when
    the change is not allowed now (checked after the reason and the state). Raises :class:`Invalid` on ``reason``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": str(_l("请填写原因"))})
    if subject.active == active:
        raise Invalid({"reason": already})
    message = refuse() if refuse is not None else None
    if message:
        raise Invalid({"reason": message})
    subject.active = active
    audit.record(
        actor,
        f"{kind}.reactivated" if active else f"{kind}.deactivated",
        subject,
        {"active": [not active, active]},
        reason=reason,
        org_id=org_id,
    )


# --------------------------------------------------------------------------------------------- users


def _role_org_errors(role: Role | None, org_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(role, Role):
        errors["role"] = str(_l("请选择角色"))
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None:
        errors["org_id"] = str(_l("请选择所属机构"))
    elif not org.active:
        errors["org_id"] = str(_l("所选机构已停用"))
    return errors


def _display_name_error(display_name: str) -> str | None:
    if not display_name:
        return str(_l("请填写姓名"))
    if len(display_name) > 100:
        return str(_l("不能超过%(n)d个字", n=100))
    return None


def create_user(
    actor: User | None,
    username: str | None,
    display_name: str | None,
    password: str | None,
    role: Role | None,
    org_id: int | None,
    reason: str | None = None,
) -> User:
    """A new login; audited ``user.created``. Raises :class:`Invalid` with Chinese messages per field."""
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    errors = _role_org_errors(role, org_id)
    if not USERNAME_RE.match(username):
        errors["username"] = str(_l("用户名只能包含字母、数字、点、短横线和下划线（3–50位）"))
    elif db.session.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        errors["username"] = str(_l("用户名已存在"))
    if msg := _display_name_error(display_name):
        errors["display_name"] = msg
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = str(_l("初始密码至少%(n)d位", n=MIN_PASSWORD))
    if errors or role is None or org_id is None or password is None:
        raise Invalid(errors)
    user = User(username=username, display_name=display_name, role=role, org_id=org_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.created",
        user,
        {"username": username, "role": role.value, "org_id": org_id},
        reason=reason,
        org_id=org_id,
    )
    return user


def update_user(
    actor: User | None,
    user: User,
    display_name: str | None,
    role: Role | None,
    org_id: int | None,
    reason: str | None = None,
) -> dict:
    """Change a user's name, role or organisation; audited ``user.updated`` with ``{field: [old, new]}``.

    A change of role or organisation also ends the user's sessions (auth_version bump), so a demoted
    user does not keep the old rights in an open browser. Nobody changes their own role.
    """
    display_name = (display_name or "").strip()
    errors = _role_org_errors(role, org_id)
    if msg := _display_name_error(display_name):
        errors["display_name"] = msg
    if actor is not None and actor.id == user.id and role != user.role and "role" not in errors:
        errors["role"] = str(_l("不能修改自己的角色"))
    if org_id and org_id == user.org_id:
        errors.pop("org_id", None)  # staying in an organisation that was deactivated meanwhile is allowed
    if errors or role is None or org_id is None:
        raise Invalid(errors)
    changes = audit.diff(
        user, ["display_name", "role", "org_id"], {"display_name": display_name, "role": role, "org_id": org_id}
    )
    if not changes:
        raise Invalid({"_form": str(_l("没有任何修改"))})
    user.display_name = display_name
    user.role = role
    user.org_id = org_id
    if "role" in changes or "org_id" in changes:
        user.auth_version += 1
    audit.record(actor, "user.updated", user, changes, reason=reason, org_id=org_id)
    return changes


def reset_password(actor: User | None, user: User, new_password: str | None) -> None:
    """An administrator sets a new password; every session of the user ends (auth_version bump)."""
    if len(new_password or "") < MIN_PASSWORD:
        raise Invalid({"password": str(_l("新密码至少%(n)d位", n=MIN_PASSWORD))})
    user.set_password(new_password or "")
    user.auth_version += 1
    user.password_changed_at = utcnow()
    audit.record(
        actor,
        "user.password_reset",
        user,
        {"auth_version": [user.auth_version - 1, user.auth_version]},
        org_id=user.org_id,
    )


def set_user_active(actor: User | None, user: User, active: bool, reason: str | None) -> None:
    """Deactivate (sessions end at once: the user loader refuses inactive users) or reactivate, with a reason."""

    def refuse() -> str | None:
        if not active and actor is not None and actor.id == user.id:
            return str(_l("不能停用自己的账号"))
        if active and not user.org.active:
            return str(_l("该用户所属机构已停用，请先调整所属机构"))
        return None

    toggle_active(
        actor, user, active, reason, kind="user", already=str(_l("该用户已是此状态")), org_id=user.org_id, refuse=refuse
    )


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user(username: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.username) == (username or "").strip().lower())
    ).scalar_one_or_none()


def find_org(code: str) -> Organisation | None:
    """An organisation by its code (case-insensitive), e.g. for ``flask create-user --org``."""
    return db.session.execute(
        select(Organisation).where(func.lower(Organisation.code) == (code or "").strip().lower())
    ).scalar_one_or_none()
