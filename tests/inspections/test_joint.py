"""Joint tasks (联合检查): each department's inspector fills their own department's checklist points."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
from tests.helpers import login, new_uuid
from webapp.auth.models import Role
from webapp.catalog.models import ChecklistPoint, ItemVersion

HX = {"HX-Request": "true"}


def test_each_department_fills_its_own_points(client, db):
    fire = make_org()
    market = make_org(dept="market")
    item = make_item(fire, departments="fire,market", points=["消防设施器材完好有效"])
    version = db.session.execute(select(ItemVersion).where(ItemVersion.item_id == item.id)).scalar_one()
    mpoint = ChecklistPoint(item_version_id=version.id, seq=2, dept="market", text="营业执照公示情况")
    db.session.add(mpoint)
    fpoint = db.session.execute(
        select(ChecklistPoint).where(ChecklistPoint.item_version_id == version.id, ChecklistPoint.dept == "fire")
    ).scalar_one()
    fu = make_user(fire, role=Role.INSPECTOR, username="fireman")
    mu = make_user(market, role=Role.INSPECTOR, username="marketman")
    fi = make_inspector(fire, user=fu)
    mi = make_inspector(market, user=mu)
    task = make_task(fire, make_unit(fire), version.id, people=[fi, mi], depts=["fire", "market"])
    db.session.commit()
    base = f"/inspections/tasks/{task.public_id}"
    login(client, "fireman")
    client.post(base + "/start", data={"client_uuid": new_uuid()})
    assert client.post(f"{base}/answers/{fpoint.id}", data={"answer": "complies"}, headers=HX).status_code == 200
    r = client.post(f"{base}/answers/{mpoint.id}", data={"answer": "complies"}, headers=HX)
    assert r.status_code == 422 and "由其他部门的检查人员填写" in r.get_data(as_text=True)
    page = client.get(base + "/record").get_data(as_text=True)
    assert "由其他部门填写" in page
    client.post("/logout")
    login(client, "marketman")
    assert client.post(f"{base}/answers/{mpoint.id}", data={"answer": "fails"}, headers=HX).status_code == 200
    assert client.post(f"{base}/answers/{fpoint.id}", data={"answer": "fails"}, headers=HX).status_code == 422
