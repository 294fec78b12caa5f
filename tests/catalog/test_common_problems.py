"""常见问题库: a common-problem library per item, seeded for the fire items, kept by supervisors on a page under the
item; every change audited, nothing deleted."""

from __future__ import annotations

import json

from tests.helpers import body, events, login
from webapp.catalog import services
from webapp.catalog.models import CommonProblem, SuggestedOrder
from webapp.catalog.seed import seed_items


def test_the_fire_items_come_with_their_usual_problems_and_articles(db, tree):
    items = {i.code: i for i in seed_items(tree.dadui)}
    db.session.commit()
    duty = services.list_problems(items["fire-duty"])
    assert len(duty) >= 10
    by_text = {p.text: p for p in duty}
    exits = by_text["占用、堵塞、封闭疏散通道、安全出口"]
    assert "《中华人民共和国消防法》第二十八条" in exits.legal_basis
    assert "第六十条第一款第三项" in exits.legal_basis
    assert "《机关、团体、企业、事业单位消防安全管理规定》第二十一条" in exits.legal_basis
    assert exits.order_kind == SuggestedOrder.IMMEDIATE and exits.deadline_days is None
    drills = by_text["未组织消防安全培训和灭火、应急疏散演练"]
    assert "第三十六条" in drills.legal_basis and "第四十条" in drills.legal_basis
    assert drills.order_kind == SuggestedOrder.DEADLINE and drills.deadline_days == 15
    # every problem names its law and a deadline when it is a 限期 one
    for p in duty:
        assert p.legal_basis.startswith("《") and "第" in p.legal_basis
        assert (p.deadline_days is not None) == (p.order_kind == SuggestedOrder.DEADLINE)
    assert services.list_problems(items["fire-product"])
    assert services.list_problems(items["joint-product"]) == []  # market regulation keeps its own
    # seeding again adds nothing
    seed_items(tree.dadui)
    db.session.commit()
    assert len(services.list_problems(items["fire-duty"])) == len(duty)


def test_supervisors_add_change_and_disable_problems_on_the_items_page(client, db, tree, supervisor):
    (item, *_rest) = seed_items(tree.dadui)
    db.session.commit()
    login(client, "boss")
    assert "查看和维护常见问题库" in body(client.get(f"/items/{item.code}"))
    page = body(client.get(f"/items/{item.code}/problems"))
    assert "占用、堵塞、封闭疏散通道、安全出口" in page

    resp = client.post(
        f"/items/{item.code}/problems",
        data={
            "text": "厨房油烟管道未定期清洗",
            "legal_basis": "《中华人民共和国消防法》第十六条第一款第五项",
            "order_kind": "deadline",
            "deadline_days": "7",
        },
    )
    assert resp.status_code == 303
    problem = db.session.query(CommonProblem).filter_by(text="厨房油烟管道未定期清洗").one()
    assert (problem.order_kind, problem.deadline_days) == (SuggestedOrder.DEADLINE, 7)
    added = events(db, "item.problem_added")[-1]  # the seed's problems were audited too
    assert json.loads(added.data)["text"] == "厨房油烟管道未定期清洗" and added.actor_name

    resp = client.post(
        f"/items/{item.code}/problems/{problem.id}",
        data={
            "text": "厨房油烟管道未定期清洗",
            "legal_basis": problem.legal_basis,
            "order_kind": "deadline",
            "deadline_days": "10",
        },
    )
    assert resp.status_code == 303
    db.session.expire_all()
    assert problem.deadline_days == 10
    (changed,) = events(db, "item.problem_changed")
    assert json.loads(changed.data)["deadline_days"] == [7, 10]

    client.post(f"/items/{item.code}/problems/{problem.id}/status", data={"action": "disable"})
    db.session.expire_all()
    assert problem.active is False and events(db, "item.problem_disabled")
    assert problem not in services.list_problems(item, active_only=True)
    assert problem in services.list_problems(item)  # kept


def test_the_rules_are_shown_next_to_the_fields(client, db, tree, supervisor):
    (item, *_rest) = seed_items(tree.dadui)
    db.session.commit()
    login(client, "boss")
    resp = client.post(
        f"/items/{item.code}/problems",
        data={
            "text": "占用、堵塞、封闭疏散通道、安全出口",
            "legal_basis": "",
            "order_kind": "deadline",
            "deadline_days": "0",
        },
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422
    html = body(resp)
    assert "请填写法律依据（法律法规名称和条款）" in html
    assert "责令限期改正请填写1–60个工作日" in html


def test_a_problem_is_reached_only_through_its_own_item(client, db, tree, supervisor):
    items = seed_items(tree.dadui)
    db.session.commit()
    duty, product = items[0], items[1]
    problem = services.list_problems(duty)[0]
    login(client, "boss")
    assert client.get(f"/items/{product.code}/problems/{problem.id}").status_code == 404
    assert client.get(f"/items/{duty.code}/problems/{problem.id}").status_code == 200


def test_inspectors_cannot_keep_the_library(client, db, tree, inspector):
    (item, *_rest) = seed_items(tree.dadui)
    db.session.commit()
    login(client, "zhang")
    assert client.get(f"/items/{item.code}/problems").status_code == 403
