"""Reads both halves of the registry share."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.extensions import db


def visible_orgs(user: User) -> list[Organisation]:
    """Organisations whose units and inspectors the user manages (admin: every active one), in code order."""
    ids = visible_org_ids(user)
    stmt = select(Organisation).order_by(Organisation.code)
    stmt = stmt.where(Organisation.active.is_(True)) if ids is None else stmt.where(Organisation.id.in_(sorted(ids)))
    return list(db.session.execute(stmt).scalars())
