"""Publication deadlines reuse the shared ``scene`` (tests/conftest.py): a task with two inspectors."""

from __future__ import annotations

import pytest
from flask_babel import force_locale


@pytest.fixture(autouse=True)
def _chinese(db):
    """Services translate their messages; outside a request the locale is forced (as a request would)."""
    with force_locale("zh_Hans"):
        yield
