"""The public item list (随机抽查事项清单) and annual plans (年度抽查计划)."""

from __future__ import annotations

from tests.factories import make_item, make_org, run_draw
from webapp.catalog.models import ItemVersion
from webapp.draw.models import PlanStatus


def test_the_item_list_shows_each_organisations_items_with_basis_method_and_ratio(client, db, world):
    other = make_org(code="pub-2", name="孟津区消防救援大队")
    retired = make_item(other, code="retired", name="已停用的抽查事项")
    retired.active = False
    make_item(other, code="products", name="消防产品质量监督抽查")
    db.session.commit()
    resp = client.get("/public/items")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "偃师区消防救援大队" in body and "孟津区消防救援大队" in body
    assert "消防产品质量监督抽查" in body and "已停用的抽查事项" not in body
    assert "《中华人民共和国消防法》" in body and "现场检查" in body and "消防安全重点单位100%" in body
    assert "Set-Cookie" not in resp.headers and resp.headers["ETag"]


def test_the_item_list_shows_the_current_version_and_revalidates_when_it_changes(client, db, world):
    first = client.get("/public/items")
    assert client.get("/public/items", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    current = world.item.current
    db.session.add(
        ItemVersion(
            item_id=world.item.id,
            version=current.version + 1,
            name=current.name,
            basis=current.basis,
            subject=current.subject,
            target=current.target,
            category=current.category,
            methods="现场检查、抽样送检",
            ratio_frequency="消防安全重点单位每年100%，一般单位每年20%",
            departments=current.departments,
        )
    )
    db.session.commit()
    again = client.get("/public/items", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    body = again.get_data(as_text=True)
    assert "一般单位每年20%" in body and "消防安全重点单位100%<" not in body


def test_plans_show_targets_and_link_to_their_published_draws_only(client, db, world):
    published = run_draw(world)
    resp = client.get("/public/plans")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    body = resp.get_data(as_text=True)
    assert world.plan.name in body and "偃师区消防救援大队" in body
    assert "人员密集场所（重点单位）" in body and "100%" in body
    assert f"/public/draws/{published.public_id}" in body
    assert client.get(f"/public/plans?year={world.plan.year}").status_code == 200


def test_an_unpublished_draw_and_a_draft_plan_are_not_on_the_plans_page(client, db, world):
    hidden = run_draw(world, publish=False)
    body = client.get("/public/plans").get_data(as_text=True)
    assert world.plan.name in body and hidden.public_id not in body
    world.plan.status = PlanStatus.DRAFT
    db.session.commit()
    assert world.plan.name not in client.get("/public/plans").get_data(as_text=True)
