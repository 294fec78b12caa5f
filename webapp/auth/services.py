"""Authentication and user management (no Flask request objects here)."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp import audit
from webapp.auth.models import Role, User
from webapp.db import utcnow
from webapp.extensions import db

# A hash computed once so unknown usernames cost the same time as known ones.
_DUMMY = User(username="-", display_name="-", role=Role.INSPECTOR, org_id=0)
_DUMMY.set_password("not-a-real-password")


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


def change_password(user: User, current: str, new: str) -> bool:
    """Set a new password and log out every other session (auth_version bump)."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    user.auth_version += 1
    user.password_changed_at = utcnow()
    audit.record(user, "user.password_changed", user, {}, org_id=user.org_id)
    db.session.commit()
    return True


def create_user(
    actor, username: str, display_name: str, password: str, role: Role, org_id: int, reason: str | None = None
) -> User:
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


def update_user(actor, user: User, *, display_name: str, role: Role, org_id: int, reason: str | None = None) -> dict:
    """Change a user's name, role or organisation; audited ``user.updated`` with ``{field: [old, new]}``.

    A change of role or organisation also ends the user's sessions (auth_version bump), so a demoted
    user does not keep the old rights in an open browser.
    """
    changes = audit.diff(
        user, ["display_name", "role", "org_id"], {"display_name": display_name, "role": role, "org_id": org_id}
    )
    if not changes:
        return changes
    user.display_name = display_name
    user.role = role
    user.org_id = org_id
    if "role" in changes or "org_id" in changes:
        user.auth_version += 1
    audit.record(actor, "user.updated", user, changes, reason=reason, org_id=org_id)
    return changes


def reset_password(actor, user: User, new_password: str) -> None:
    """An administrator sets a new password; every session of the user ends (auth_version bump)."""
    user.set_password(new_password)
    user.auth_version += 1
    user.password_changed_at = utcnow()
    audit.record(
        actor,
        "user.password_reset",
        user,
        {"auth_version": [user.auth_version - 1, user.auth_version]},
        org_id=user.org_id,
    )


def set_active(actor, user: User, active: bool, reason: str) -> None:
    """Deactivate (sessions end at once: the user loader refuses inactive users) or reactivate, with a reason."""
    user.active = active
    audit.record(
        actor,
        "user.reactivated" if active else "user.deactivated",
        user,
        {"active": [not active, active]},
        reason=reason,
        org_id=user.org_id,
    )
