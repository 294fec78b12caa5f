"""Fixtures for the admin pages: a small organisation tree and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation, OrgKind, Role, User


@dataclass
class Tree:
    zongdui: Organisation
    zhidui: Organisation
    dadui: Organisation
    market: Organisation


@pytest.fixture
def tree(db) -> Tree:
    zongdui = make_org(code="ha", name="河南省消防救援总队", kind=OrgKind.ZONGDUI)
    zhidui = make_org(code="ly", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI, parent=zongdui)
    dadui = make_org(code="ly-yanshi", name="洛阳市偃师区消防救援大队", kind=OrgKind.DADUI, parent=zhidui)
    market = make_org(code="ys-market", name="洛阳市偃师区市场监督管理局", kind=OrgKind.DEPARTMENT, dept="market")
    db.session.commit()
    return Tree(zongdui, zhidui, dadui, market)


@pytest.fixture
def admin(db, tree) -> User:
    user = make_user(tree.zhidui, role=Role.ADMIN, username="root", display_name="系统管理员")
    db.session.commit()
    return user


@pytest.fixture
def supervisor(db, tree) -> User:
    user = make_user(tree.dadui, role=Role.SUPERVISOR, username="boss", display_name="王队长")
    db.session.commit()
    return user


@pytest.fixture
def inspector(db, tree) -> User:
    user = make_user(tree.dadui, role=Role.INSPECTOR, username="zhang", display_name="张检查")
    db.session.commit()
    return user


def events(db, action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first (read in a fresh transaction)."""
    db.session.rollback()
    return list(
        db.session.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars()
    )


def body(resp) -> str:
    return resp.get_data(as_text=True)


def as_(browser):
    """Use ``browser`` (a test client) for the next request, as a fresh request would see it.

    Test requests run inside the test's app context (the ``db`` fixture pushes one), so ``flask.g`` and with it
    Flask-Login's cached ``g._login_user`` survive from one request to the next, across test clients. Dropping
    the cached user makes the next request load its user from its own session cookie, as in production.
    """
    from flask import g

    g.pop("_login_user", None)
    return browser
