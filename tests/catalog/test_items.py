"""一单: the item list, item detail with versions, creating items, editing = a new version, deactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import body, edit_form, events, new_item_form
from webapp.catalog.models import ChecklistPoint, Item, ItemVersion
from webapp.catalog.seed import seed_items


@pytest.fixture
def seeded(db, tree):
    items = seed_items(tree.dadui)
    db.session.commit()
    return items


# ------------------------------------------------------------------------------------------ reading


def test_supervisor_sees_the_item_list(client, seeded, supervisor, login_as):
    login_as(supervisor)
    resp = client.get("/items")
    assert resp.status_code == 200
    page = body(resp)
    assert "共4项" in page
    for name in ("对单位履行消防安全职责情况的日常监督抽查", "消防产品质量监督情况联合抽查"):
        assert name in page
    assert "现场检查" in page and "抽样送检" in page
    assert "抽查比例不小于2%" in page
    assert "市场监督管理部门" in page and "部门联合抽查" in page
    assert "第1版" in page
    assert "新建事项" not in page  # supervisors read, admins change


def test_item_detail_groups_points_by_department_and_lists_versions(client, seeded, supervisor, login_as):
    login_as(supervisor)
    resp = client.get("/items/joint-product")
    assert resp.status_code == 200
    page = body(resp)
    assert page.index("消防救援机构</h3>") < page.index("<li>消防产品使用情况") < page.index("市场监督管理部门</h3>")
    assert page.index("市场监督管理部门</h3>") < page.index("<li>营业执照（登记证）规范使用情况")
    assert "版本记录" in page and "/items/joint-product/v/1" in page
    assert "修改（保存为新版本）" not in page


def test_unknown_item_or_version_is_404(client, seeded, supervisor, login_as):
    login_as(supervisor)
    assert client.get("/items/no-such-item").status_code == 404
    assert client.get("/items/fire-duty/v/2").status_code == 404
    assert client.get("/items/fire-duty/v/1").status_code == 200


# ----------------------------------------------------------------------------------------- creating


def test_admin_creates_an_item_with_version_one_and_its_points(client, db, tree, admin, login_as):
    login_as(admin)
    assert client.get("/items/new").status_code == 200
    resp = client.post("/items/new", data=new_item_form(tree.dadui.id))
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/items/night-check")
    db.session.rollback()
    item = db.session.execute(select(Item).where(Item.code == "night-check")).scalar_one()
    assert item.org_id == tree.dadui.id and item.active
    v = item.current
    assert (v.version, v.category, v.methods, v.departments) == (1, "重点检查事项", "现场检查", "fire")
    assert [(p.seq, p.text, p.basis) for p in v.points] == [(1, "夜间防火巡查情况", "《中华人民共和国消防法》第十七条")]
    assert v.created_by_id == admin.id
    (ev,) = events(db, "item.created")
    assert ev.payload["code"] == "night-check" and ev.actor_name == "root"
    page = body(client.get(resp.headers["Location"]))
    assert "已新建抽查事项" in page and "夜间防火巡查情况" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": "普通事项"}, "事项类别应为“一般检查事项”或“重点检查事项”"),
        ({"methods": ["电话抽查"]}, "检查方式应为现场检查、抽样送检或书面检查"),
        ({"methods": None}, "请至少选择一种检查方式"),
        ({"departments": None}, "请至少选择一个参与部门"),
        ({"departments": ["fire", "tax"]}, "参与部门不在已知部门之中"),
        ({"points-0-text": "  "}, "请至少填写一个检查要点"),
        ({"points-0-dept": "market"}, "该部门不在本事项的参与部门之中"),
        ({"points-0-dept": "police"}, "未知的部门"),
        ({"departments": ["fire", "market"]}, "每个参与部门至少需要一个检查要点（缺少：市场监督管理部门）"),
        ({"name": ""}, "请填写抽查事项名称"),
        ({"basis": ""}, "请填写抽查依据"),
        ({"code": "Night Check"}, "事项编码只能包含小写字母、数字和短横线"),
        ({"code": "fire-duty"}, "事项编码已存在"),
        ({"points-1-text": "夜间防火巡查情况"}, "检查要点重复"),
        ({"target_types": None}, "请至少选择一种检查对象类型"),
        ({"target_types": ["restaurant"]}, "检查对象类型不在已知类型之中"),
    ],
)
def test_item_rules_are_explained_in_chinese(client, db, tree, admin, login_as, overrides, message):
    seed_items(tree.dadui)
    db.session.commit()
    login_as(admin)
    resp = client.post("/items/new", data=new_item_form(tree.dadui.id, **overrides))
    assert resp.status_code == 422
    page = body(resp)
    assert message in page
    assert 'value="每季度不少于一次"' in page  # typed input is kept
    db.session.rollback()
    assert db.session.execute(select(Item).where(Item.code == "night-check")).scalar_one_or_none() is None


def test_a_joint_item_needs_points_for_every_department(client, db, tree, admin, login_as):
    login_as(admin)
    data = new_item_form(
        tree.dadui.id,
        departments=["fire", "market"],
        **{"points-1-dept": "market", "points-1-text": "营业执照（登记证）规范使用情况"},
    )
    resp = client.post("/items/new", data=data)
    assert resp.status_code == 303
    db.session.rollback()
    v = db.session.execute(select(Item).where(Item.code == "night-check")).scalar_one().current
    assert v.is_joint and [p.dept for p in v.points] == ["fire", "market"]


# ---------------------------------------------------------------------------------- editing = versions


def test_editing_creates_version_two_and_keeps_version_one_with_its_points(client, db, seeded, admin, login_as):
    item = seeded[0]
    old_points = [p.text for p in item.current.points]
    login_as(admin)
    form = client.get("/items/fire-duty/edit")
    assert form.status_code == 200 and "保存后生成第2版" in body(form)
    data = edit_form(
        item, ratio_frequency="消防安全重点单位100%，一般单位不少于20%", change_note="按2026年计划调整比例"
    )
    n = len(item.current.points)
    data[f"points-{n}-dept"] = "fire"
    data[f"points-{n}-text"] = "消防车通道标识设置情况"
    data["points-0-text"] = ""  # the first point is dropped
    resp = client.post("/items/fire-duty/edit", data=data)
    assert resp.status_code == 303

    db.session.rollback()
    item = db.session.get(Item, item.id)
    assert [v.version for v in item.versions] == [1, 2]
    v1, v2 = item.versions
    assert [p.text for p in v1.points] == old_points  # version 1 untouched
    assert v1.ratio_frequency.startswith("消防安全重点单位100%，一般单位、九小场所")
    assert v2.ratio_frequency == "消防安全重点单位100%，一般单位不少于20%"
    assert [p.text for p in v2.points] == [*old_points[1:], "消防车通道标识设置情况"]
    assert [p.seq for p in v2.points] == list(range(1, len(old_points) + 1))
    assert v2.change_note == "按2026年计划调整比例"
    assert item.current.id == v2.id
    (ev,) = events(db, "item.version_created")
    assert ev.reason == "按2026年计划调整比例"
    assert ev.payload["version"] == [1, 2]
    assert ev.payload["ratio_frequency"][1] == "消防安全重点单位100%，一般单位不少于20%"
    assert ev.payload["points"]["added"] == ["消防车通道标识设置情况"]
    assert ev.payload["points"]["removed"] == [old_points[0]]

    page = body(client.get("/items/fire-duty/v/1"))
    assert "这是第1版（历史版本），当前为第2版。" in page and old_points[0] in page
    page = body(client.get("/items/fire-duty"))
    assert "第2版" in page and "按2026年计划调整比例" in page and old_points[0] not in page.split("版本记录")[0]


def test_a_new_version_needs_a_change_note_and_a_change(client, db, seeded, admin, login_as):
    login_as(admin)
    item = seeded[1]
    resp = client.post("/items/fire-product/edit", data=edit_form(item, name="对使用领域消防产品的抽查"))
    assert resp.status_code == 422 and "请填写修改说明" in body(resp)
    resp = client.post("/items/fire-product/edit", data=edit_form(item, change_note="无修改"))
    assert resp.status_code == 422 and "与当前版本相比没有任何修改，无需保存新版本" in body(resp)
    db.session.rollback()
    assert len(db.session.get(Item, item.id).versions) == 1


def test_points_editor_adds_and_removes_rows_without_saving(client, db, seeded, admin, login_as):
    login_as(admin)
    item = seeded[3]
    data = edit_form(item, op="add")
    resp = client.post("/items/joint-product/edit", data=data, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    fragment = body(resp)
    assert fragment.lstrip().startswith('<fieldset id="points"')
    assert "<html" not in fragment
    assert 'name="points-5-text"' in fragment  # five points + the new row
    assert 'value="market" selected' in fragment or 'selected value="market"' in fragment

    data = edit_form(item, op="remove-0")
    resp = client.post("/items/joint-product/edit", data=data)  # without JavaScript: the whole page
    page = body(resp)
    assert resp.status_code == 200 and "<html" in page
    assert "消防产品使用情况</textarea>" not in page and "消防设施器材完好情况</textarea>" in page
    db.session.rollback()
    assert len(db.session.get(Item, item.id).versions) == 1
    assert events(db, "item.version_created") == []


# ------------------------------------------------------------------------------------------- status


def test_deactivating_needs_a_reason_and_is_audited(client, db, seeded, admin, login_as):
    login_as(admin)
    resp = client.post("/items/fire-service/status", data={"action": "deactivate", "reason": ""})
    assert resp.status_code == 422 and "请填写原因" in body(resp)

    resp = client.post("/items/fire-service/status", data={"action": "deactivate", "reason": "本年度不再开展"})
    assert resp.status_code == 303
    db.session.rollback()
    item = db.session.execute(select(Item).where(Item.code == "fire-service")).scalar_one()
    assert not item.active
    (ev,) = events(db, "item.deactivated")
    assert ev.reason == "本年度不再开展" and ev.payload == {"active": [True, False]}
    page = body(client.get("/items"))
    assert "已停用" in page
    assert "该事项已停用" in body(client.get("/items/fire-service"))

    resp = client.post("/items/fire-service/status", data={"action": "deactivate", "reason": "再次停用"})
    assert resp.status_code == 422 and "该事项已是此状态" in body(resp)

    resp = client.post("/items/fire-service/status", data={"action": "reactivate", "reason": "恢复开展"})
    assert resp.status_code == 303
    db.session.rollback()
    assert db.session.get(Item, item.id).active
    assert [e.reason for e in events(db, "item.reactivated")] == ["恢复开展"]


def test_versions_and_points_are_never_deleted(client, db, seeded, admin, login_as):
    login_as(admin)
    before_points = db.session.execute(select(ChecklistPoint.id)).scalars().all()
    item = seeded[0]
    client.post("/items/fire-duty/edit", data=edit_form(item, **{"points-0-text": ""}, change_note="删去一条"))
    client.post("/items/fire-duty/status", data={"action": "deactivate", "reason": "测试"})
    db.session.rollback()
    after_points = set(db.session.execute(select(ChecklistPoint.id)).scalars())
    assert set(before_points) <= after_points
    assert len(db.session.execute(select(ItemVersion)).scalars().all()) == 5


# -------------------------------------------------------------------------------------- permissions


def test_supervisor_cannot_create_or_change_items(client, seeded, supervisor, login_as):
    login_as(supervisor)
    assert client.get("/items/new").status_code == 403
    assert client.post("/items/new", data=new_item_form(supervisor.org_id)).status_code == 403
    assert client.get("/items/fire-duty/edit").status_code == 403
    assert client.post("/items/fire-duty/edit", data={"change_note": "x"}).status_code == 403
    assert client.post("/items/fire-duty/status", data={"action": "deactivate", "reason": "x"}).status_code == 403


def test_inspector_cannot_open_the_item_pages(client, seeded, inspector, login_as):
    login_as(inspector)
    for url in ("/items", "/items/fire-duty", "/items/fire-duty/v/1", "/items/new"):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, seeded):
    for url in ("/items", "/items/fire-duty", "/items/fire-duty/v/1", "/items/new", "/items/fire-duty/edit"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    resp = client.post("/items/fire-duty/status", data={"action": "deactivate", "reason": "x"})
    assert resp.status_code == 302
