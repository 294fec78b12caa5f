"""Migration e1a0c0ffee03 on data: existing units become 社会单位, existing items target 社会单位 except the preloaded
technical-service item; down and up again keep the units (and, on SQLite, the unit search's triggers)."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.factories import make_item, make_org, make_unit
from webapp.extensions import db as _db

BEFORE, REVISION = "e1a0c0ffee02", "e1a0c0ffee03"


def columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(_db.engine).get_columns(table)}


@pytest.fixture
def at_head(app, db):
    yield
    _db.session.remove()
    upgrade()


def test_existing_units_and_items_get_sensible_defaults_and_the_revision_goes_down_and_up(app, db, at_head):
    org = make_org(code="d1")
    make_unit(org, "老街饭店")
    make_item(org, code="fire-duty")
    make_item(org, code="fire-service", name="对社会消防技术服务机构开展的检测、维保服务项目规范性情况的抽查")
    _db.session.commit()
    _db.session.remove()

    downgrade(revision=BEFORE)
    assert "object_type" not in columns("unit") and "target_types" not in columns("item_version")
    upgrade(revision=REVISION)
    with _db.engine.connect() as conn:
        assert conn.execute(text("SELECT object_type FROM unit")).scalars().all() == ["social_unit"]
        types = dict(
            conn.execute(
                text("SELECT item.code, item_version.target_types FROM item_version JOIN item ON item.id = item_id")
            ).all()
        )
    assert types == {"fire-duty": "social_unit", "fire-service": "tech_service"}

    downgrade(revision=BEFORE)
    with _db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM unit")).scalars().all() == ["老街饭店"]  # the units stay
        if _db.engine.dialect.name == "sqlite":
            triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            assert {"unit_fts_insert", "unit_fts_delete"} <= set(triggers)
