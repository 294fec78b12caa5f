"""Unit search over the trigram indexes: what a supervisor finds after edits, bulk writes and odd input."""

from __future__ import annotations

import html
import random
import re

import pytest
from sqlalchemy import update

from tests.factories import make_org, make_unit, make_user
from webapp.registry.models import Unit
from webapp.registry.validation import generate_uscc

_rng = random.Random(9031)


@pytest.fixture
def yanshi(db):
    org = make_org(code="ys", name="偃师区消防救援大队")
    make_user(org, username="sup_ys")
    db.session.commit()
    return org


@pytest.fixture
def search(client, yanshi, login_as, db):
    from webapp.auth.models import User

    login_as(db.session.query(User).filter_by(username="sup_ys").one())

    def _search(q: str) -> list[str]:
        resp = client.get("/registry/units", query_string={"q": q, "status": "all"})
        assert resp.status_code == 200, (q, resp.status_code)
        return sorted(
            html.unescape(t) for t in re.findall(r'<span class="title">([^<]+)</span>', resp.get_data(as_text=True))
        )

    return _search


def test_a_renamed_unit_is_found_by_its_new_name_only(client, yanshi, search, db):
    unit = make_unit(yanshi, name="偃师市红星幼儿园", address="偃师区槐庙路1号")
    db.session.commit()
    assert search("红星幼儿园") == ["偃师市红星幼儿园"]

    data = {
        "org_id": str(yanshi.id),
        "name": "偃师市蓝天幼儿园",
        "uscc": unit.uscc,
        "address": "偃师区华夏路9号",
        "risk_level": "blue",
        "credit_level": "normal",
        "complaint_count": "0",
        "reason": "更名",
    }
    resp = client.post(f"/registry/units/{unit.public_id}/edit", data=data)
    assert resp.status_code == 303

    assert search("红星幼儿园") == []
    assert search("槐庙路") == []
    assert search("蓝天幼儿园") == ["偃师市蓝天幼儿园"]
    assert search("华夏路9") == ["偃师市蓝天幼儿园"]


def test_units_written_by_bulk_statements_are_found(search, yanshi, db):
    a = make_unit(yanshi, name="偃师市金桥宾馆", address="偃师区伊洛路3号", uscc=None)
    db.session.commit()
    code = generate_uscc(_rng)
    db.session.execute(update(Unit).where(Unit.id == a.id).values(name="偃师市银桥宾馆", uscc=code))
    db.session.commit()
    assert search("金桥宾馆") == []
    assert search("银桥宾馆") == ["偃师市银桥宾馆"]
    assert search(code[2:10].lower()) == ["偃师市银桥宾馆"]  # USCC fragment, case-insensitive


def test_wildcards_quotes_and_search_operators_are_plain_text(search, yanshi, db):
    make_unit(yanshi, name="满100%优惠店", address="偃师区商城路1号")
    make_unit(yanshi, name="满1000元优惠店", address="偃师区商城路2号")
    make_unit(yanshi, name="A1_1仓库", address="偃师区商城路3号")
    make_unit(yanshi, name="A101仓库", address="偃师区商城路4号")
    make_unit(yanshi, name='"星光"超市 AND NEAR', address="偃师区商城路5号")
    db.session.commit()

    assert search("100%") == ["满100%优惠店"]
    assert search("1_1") == ["A1_1仓库"]
    assert search("A1_1仓") == ["A1_1仓库"]
    assert search('"星光"') == ['"星光"超市 AND NEAR']
    assert search("AND") == ['"星光"超市 AND NEAR']
    assert search("near") == ['"星光"超市 AND NEAR']  # case-insensitive
    for odd in ('"', '""', "NEAR(", "name:", "*", "商城路*", "^商城", "-商城", "(商城", "a OR b", "{name}"):
        assert isinstance(search(odd), list)  # answered, never an error
    assert search("商城路*") == []


def test_long_and_short_words_together(search, yanshi, db):
    make_unit(yanshi, name="华夏超市", address="偃师区首阳山镇商业街")
    make_unit(yanshi, name="华夏网吧", address="偃师区首阳山镇商业街")
    make_unit(yanshi, name="天天超市", address="偃师区商城路5号")
    db.session.commit()

    assert search("超市 首阳山") == ["华夏超市"]
    assert search("首阳山 华夏") == ["华夏网吧", "华夏超市"]
    assert search("商业街 网") == ["华夏网吧"]
    assert search("市") == ["华夏超市", "天天超市"]
