"""Users and roles."""

from __future__ import annotations

import datetime as dt
import enum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db import UTCDateTime, created_at, intpk, str100
from webapp.extensions import db
from webapp.registry.models import Organisation, _enum


class Role(enum.StrEnum):
    ADMIN = "admin"  # 管理员
    SUPERVISOR = "supervisor"  # 监管负责人 (大队/支队)
    INSPECTOR = "inspector"  # 执法检查人员


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str100]
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change: every session holding the old value is logged out.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    org: Mapped[Organisation] = relationship()

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
