"""The public site's worlds: a 大队 with a year plan to draw from (``world``) and published results."""

from __future__ import annotations

import pytest

from tests.factories import PublicWorld, Results, build_public_world, build_results, known_years


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    known_years()


@pytest.fixture
def world(db) -> PublicWorld:
    return build_public_world()


@pytest.fixture
def results(db) -> Results:
    return build_results()
