"""Who works here: the organisation tree, users and their roles."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db import UTCDateTime, created_at, intpk, str40, str100, str200, str_enum
from webapp.extensions import Model

if TYPE_CHECKING:
    from webapp.registry.models import Inspector


# Department codes an organisation or an item may name (labels in webapp.registry.labels.DEPT).
DEPARTMENTS: tuple[str, ...] = ("fire", "market", "civil_defence")


class OrgKind(enum.StrEnum):
    ZONGDUI = "zongdui"  # 总队 (province)
    ZHIDUI = "zhidui"  # 支队 (city)
    DADUI = "dadui"  # 大队 (county / district)
    DEPARTMENT = "department"  # other regulators: 市场监督管理局, 人防办 …


class Organisation(Model):
    __tablename__ = "organisation"

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    name: Mapped[str200]
    short_name: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"))
    # Which regulator's staff this organisation holds; items list the departments they need.
    dept: Mapped[str] = mapped_column(String(20), default="fire")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    region: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 公示前审核: results and penalties wait for a supervisor (published by the system at the deadline)
    publication_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[created_at]

    parent: Mapped[Organisation | None] = relationship(remote_side="Organisation.id", back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent", order_by="Organisation.code")

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class Role(enum.StrEnum):
    ADMIN = "admin"  # 管理员
    SUPERVISOR = "supervisor"  # 监管负责人 (大队/支队)
    INSPECTOR = "inspector"  # 执法检查人员


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str100]
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change: every session holding the old value is logged out.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    org: Mapped[Organisation] = relationship()
    # The inspector-library entry this login belongs to (None for admins and most supervisors).
    inspector: Mapped[Inspector | None] = relationship(
        "Inspector", primaryjoin="foreign(Inspector.user_id) == User.id", uselist=False, viewonly=True
    )

    def set_password(self, password: str) -> None:
        # scrypt (werkzeug's strongest built-in method), salted per user; tests may configure a cheaper one.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(Model):
    """One logged-in browser: its random id is in the (signed) session cookie and must be here for the cookie
    to work. Logout deletes the row, so a copy of the cookie stops working; the user's other devices keep
    theirs. A password change or reset, a role change and deactivation still end every session at once
    (``auth_version`` and ``active`` are checked as before)."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_at]
