"""The pool page says why a period cannot be committed when its calendar year is not known (issue 11 item 5,
DRAW_SPEC section 4): the supervisor sees the reason in place of the commit button before trying, and the button
comes back once an administrator has confirmed the year."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import g
from sqlalchemy import select

from tests.factories import make_inspector, make_item, make_org, make_unit, make_user
from tests.helpers import body, login
from webapp.auth.models import Role
from webapp.draw import services
from webapp.draw.models import Draw, PlanKind

UNKNOWN = 2099  # neither the holiday library nor an administrator knows this year
PERIOD = f"{UNKNOWN}-03"
GATE = "2099年的节假日安排尚未录入或确认"
COMMIT_BUTTON = "冻结名录并生成承诺值"


@pytest.fixture
def plan(db):
    org = make_org(code="d1", name="偃师区消防救援大队")
    item = make_item(org, code="fire-duty")
    sup = make_user(org, Role.SUPERVISOR, username="sup")
    for i in range(3):
        make_unit(org, f"未知年份单位{i}")
    for i in range(4):
        make_inspector(org, f"检查员{i}", cert_valid_until=dt.date(2100, 1, 1))
    plan = services.create_plan(
        sup, org=org, item=item, year=UNKNOWN, kind=PlanKind.SPECIAL, monthly_quotas={"general": 1}, targets={}
    )
    db.session.commit()
    return plan


def _pool_page(client, plan) -> str:
    g.pop("_login_user", None)
    resp = client.get(f"/draw/plans/{plan.public_id}/pool?period={PERIOD}")
    assert resp.status_code == 200
    return body(resp)


def _commit_box(html: str) -> str:
    start = html.index('class="card commit-box"')
    return html[start : html.index("</section>", start)]


def test_the_pool_page_says_the_year_is_not_known_and_offers_no_commit(app, db, client, plan):
    login(client, "sup")
    box = _commit_box(_pool_page(client, plan))
    assert "calendar-gate" in box and GATE in box, box
    assert "本期暂不能冻结名录" in box
    assert COMMIT_BUTTON not in box, "no commit button while the year is unknown"
    # the service refuses with the same sentence (the page only says it first)
    g.pop("_login_user", None)
    resp = client.post(
        f"/draw/plans/{plan.public_id}/commit",
        data={"period": PERIOD, "confirmed": "1", "early_reason": "测试：提前冻结"},
        follow_redirects=True,
    )
    assert GATE in body(resp)
    assert db.session.execute(select(Draw.id)).first() is None


def test_once_an_administrator_confirms_the_year_the_commit_button_is_back(app, db, client, plan):
    from webapp.admin import services as admin_services

    admin_services.confirm_year(None, UNKNOWN, "国务院办公厅尚未公布该年的放假安排")
    db.session.commit()
    login(client, "sup")
    box = _commit_box(_pool_page(client, plan))
    assert "calendar-gate" not in box and GATE not in box
    assert COMMIT_BUTTON in box
