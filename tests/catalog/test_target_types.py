"""An item chooses the object types it draws from (检查对象类型): the form, the item page, new versions, the seed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import body, edit_form, events, new_item_form
from webapp.catalog.models import Item
from webapp.catalog.seed import seed_items
from webapp.registry.models import ObjectType


@pytest.fixture
def seeded(db, tree):
    items = seed_items(tree.dadui)
    db.session.commit()
    return items


def test_the_seed_technical_service_item_targets_technical_service_firms_and_the_others_social_units(seeded):
    types = {i.code: i.current.target_type_list for i in seeded}
    assert types == {
        "fire-duty": [ObjectType.SOCIAL_UNIT],
        "fire-product": [ObjectType.SOCIAL_UNIT],
        "fire-service": [ObjectType.TECH_SERVICE],
        "joint-product": [ObjectType.SOCIAL_UNIT],
    }


def test_the_item_page_shows_its_target_types(client, seeded, supervisor, login_as):
    login_as(supervisor)
    page = body(client.get("/items/fire-service"))
    assert "抽取的检查对象类型" in page
    assert page.split("抽取的检查对象类型", 1)[1].split("</dd>", 1)[0].endswith("消防技术服务机构")


def test_a_new_item_offers_social_units_checked_and_keeps_the_choice(client, db, tree, admin, login_as):
    login_as(admin)
    form = body(client.get("/items/new"))
    assert 'name="target_types"' in form
    assert '<input checked id="target_types-0" name="target_types" type="checkbox" value="social_unit">' in form
    resp = client.post("/items/new", data=new_item_form(tree.dadui.id, target_types=["tech_service", "civil_defence"]))
    assert resp.status_code == 303
    db.session.rollback()
    item = db.session.execute(select(Item).where(Item.code == "night-check")).scalar_one()
    assert item.current.target_types == "tech_service,civil_defence"
    assert item.current.target_type_list == [ObjectType.TECH_SERVICE, ObjectType.CIVIL_DEFENCE]


def test_changing_the_target_types_makes_a_new_version_and_is_audited(client, db, seeded, admin, login_as):
    item = seeded[0]
    login_as(admin)
    data = edit_form(item, target_types=["social_unit", "tech_service"], change_note="技术服务机构一并纳入日常抽查")
    resp = client.post("/items/fire-duty/edit", data=data)
    assert resp.status_code == 303
    db.session.rollback()
    item = db.session.get(Item, item.id)
    v1, v2 = item.versions
    assert v1.target_type_list == [ObjectType.SOCIAL_UNIT]  # the old version keeps its population
    assert v2.target_type_list == [ObjectType.SOCIAL_UNIT, ObjectType.TECH_SERVICE]
    (ev,) = events(db, "item.version_created")
    assert ev.payload["target_types"] == ["social_unit", "social_unit、tech_service"]
