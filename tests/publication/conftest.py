"""Publication deadlines reuse the inspections' scene: a task with two inspectors and two supervisors."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from tests.inspections.conftest import scene  # noqa: F401  (the fixture)


@pytest.fixture(autouse=True)
def _chinese(db):
    """Services translate their messages; outside a request the locale is forced (as a request would)."""
    with force_locale("zh_Hans"):
        yield
