"""The public site's worlds: a 大队 with a year plan to draw from (``world``) and published results."""

from __future__ import annotations

import pytest

from tests.factories import PublicWorld, Results, build_public_world, build_results


@pytest.fixture
def world(db) -> PublicWorld:
    return build_public_world()


@pytest.fixture
def results(db) -> Results:
    return build_results()
