"""The preloaded item list: the three fire items of seed 000 and the joint item of seed 002."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.helpers import events
from webapp.catalog.models import Item, ItemVersion
from webapp.catalog.seed import seed_items
from webapp.catalog.services import points_by_dept


def test_seed_creates_the_four_items_with_the_official_wording(db, tree):
    items = seed_items(tree.dadui)
    db.session.commit()
    by_code = {i.code: i.current for i in items}
    assert list(by_code) == ["fire-duty", "fire-product", "fire-service", "joint-product"]

    duty = by_code["fire-duty"]
    assert duty.name == "对单位履行消防安全职责情况的日常监督抽查"
    assert duty.basis == "《中华人民共和国消防法》、《消防监督检查规定》（公安部令第120号）"
    assert duty.target == "消防救援机构管辖的机关、团体、企业、事业等单位"
    assert duty.category == "一般检查事项"
    assert duty.methods == "现场检查"
    assert duty.subject == "区消防救援大队"
    assert duty.ratio_frequency.startswith("消防安全重点单位100%")
    texts = [p.text for p in duty.points]
    assert "疏散通道、安全出口、消防车通道畅通情况" in texts
    assert "消防安全责任制和消防安全管理制度落实情况" in texts

    product = by_code["fire-product"]
    assert product.name == "对使用领域的消防产品质量监督抽查"
    assert product.methods == "现场检查、抽样送检"
    assert product.target == "使用领域的消防产品"

    service = by_code["fire-service"]
    assert service.name == "对社会消防技术服务机构开展的检测、维保服务项目规范性情况的抽查"
    assert service.basis == "《中华人民共和国消防法》《社会消防技术服务管理规定》"
    assert service.target == "消防技术服务机构"


def test_joint_item_has_fire_and_market_points(db, tree):
    items = seed_items(tree.dadui)
    joint = items[3].current
    assert joint.name == "消防产品质量监督情况联合抽查"
    assert joint.dept_list == ["fire", "market"] and joint.is_joint
    assert "2%" in joint.ratio_frequency
    groups = {dept: [p.text for p in points] for dept, points in points_by_dept(joint)}
    assert groups == {
        "fire": ["消防产品使用情况", "消防设施器材完好情况"],
        "market": ["营业执照（登记证）规范使用情况", "名称规范使用情况", "住所（经营场所）或者驻在场所"],
    }


def test_every_seeded_version_is_version_one_owned_by_the_given_org(db, tree):
    for item in seed_items(tree.dadui):
        assert item.org_id == tree.dadui.id
        assert [v.version for v in item.versions] == [1]
        assert item.active
        assert item.current.points, item.code
        assert all(p.dept in item.current.dept_list for p in item.current.points)


def test_seeding_twice_creates_nothing_new_and_audits_each_item_once(db, tree):
    first = seed_items(tree.dadui)
    db.session.commit()
    second = seed_items(tree.zhidui)
    db.session.commit()
    assert [i.id for i in first] == [i.id for i in second]
    assert db.session.execute(select(func.count(Item.id))).scalar() == 4
    assert db.session.execute(select(func.count(ItemVersion.id))).scalar() == 4
    created = events(db, "item.created")
    assert sorted(e.payload["code"] for e in created) == ["fire-duty", "fire-product", "fire-service", "joint-product"]
    assert all(e.actor_name == "system" for e in created)


def test_seed_skips_a_code_that_already_exists(db, tree, admin):
    from tests.factories import make_item

    own = make_item(tree.dadui, code="fire-duty", name="本地修改过的日常监督抽查")
    db.session.commit()
    items = seed_items(tree.dadui, actor=admin)
    db.session.commit()
    assert items[0].id == own.id and items[0].current.name == "本地修改过的日常监督抽查"
    created = events(db, "item.created")
    assert len(created) == 3 and all(e.actor_name == "root" for e in created)
