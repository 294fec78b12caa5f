"""The public site's worlds: a 大队 with a year plan to draw from (``world``) and published results."""

from __future__ import annotations

import pytest

from tests.factories import PublicWorld, Results, build_public_world, build_results

EXTRA_YEARS = ()  # besides this year and the next: the years the tests draw in


@pytest.fixture(autouse=True)
def known_calendar(db):
    """The years these tests draw in are known (DRAW_SPEC section 4), confirmed as an administrator would."""
    from webapp import calendar
    from webapp.admin import services as admin_services

    this = calendar.today().year
    for year in sorted({this, this + 1, *EXTRA_YEARS}):
        if not calendar.year_known(year):
            admin_services.confirm_year(None, year, "测试：暂无放假安排")
    db.session.commit()


@pytest.fixture
def world(db) -> PublicWorld:
    return build_public_world()


@pytest.fixture
def results(db) -> Results:
    return build_results()
