"""A small world for orders: an organisation, a unit, a task with two inspectors, a record that calls for an order."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from tests.factories import OrderWorld, build_order_world


@pytest.fixture
def world(db) -> OrderWorld:
    return build_order_world()


@pytest.fixture(autouse=True)
def _chinese(db):
    """Services translate their messages; outside a request the locale is forced (as a request would)."""
    with force_locale("zh_Hans"):
        yield
