"""Every public page of the demo, crawled from /public/, shows no unmasked personal data.

The demo is loaded, its first 大队 runs and publishes a real month (with a replacement whose reason names
the inspector and a phone number), a result names people of its own and of another unit, its signer, a user
and an ID number, and every page and download reachable from /public/ — plus the verification page
(/v/<token>) of every notice — is scanned for the names and phone numbers of every inspector, user, witness,
signer and unit contact in the database.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select

from tests.factories import add_inspection, add_order
from tests.helpers import next_period
from webapp import demo
from webapp.auth.models import Organisation, Role, User
from webapp.draw import services
from webapp.draw.models import DrawWitness
from webapp.draw.queries import get_item, get_org
from webapp.inspections.models import Signature, SignerRole
from webapp.rectification.models import OrderStatus, RectificationOrder
from webapp.registry.models import Inspector, Unit

HREF = re.compile(r'href="([^"]+)"')


def crawl(client, start: str = "/public/", seen: dict[str, str] | None = None) -> dict[str, str]:
    seen = {} if seen is None else seen
    queue = deque([start])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        resp = client.get(url)
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        seen[url] = body
        if resp.mimetype == "text/html":
            for href in HREF.findall(body):
                target = urljoin(url, href.replace("&amp;", "&"))
                if urlsplit(target).path.startswith("/public/") and target not in seen:
                    queue.append(target)
    return seen


def test_no_public_page_of_the_demo_shows_an_unmasked_name_or_phone(client, db):
    demo.load_demo(units=150, seed=7)
    db.session.commit()
    org, item = get_org("demo-1"), get_item("fire-duty")
    supervisor = (
        db.session.execute(select(User).where(User.role == Role.SUPERVISOR, User.org_id == org.id).order_by(User.id))
        .scalars()
        .first()
    )
    plan = services.create_plan(supervisor, org=org, item=item, year=int(next_period()[:4]))
    draw = services.commit(supervisor, plan, next_period(), early_reason="测试：提前抽取")
    services.add_witness(supervisor, draw, "刘建国", "廉政监督员", "66554433221166554433")
    services.perform(supervisor, draw)
    task = draw.tasks[0]
    out = task.active_assignments[1].inspector
    services.replace(supervisor, draw, task, 1, f"{out.name}病假，联系电话{out.phone or '13812341188'}")
    services.publish(supervisor, draw)
    db.session.commit()

    # a submitted result on a drawn task, whose problems name the people involved and a phone number
    unit = task.unit
    contact = unit.safety_person or unit.contact_name or unit.legal_rep or "赵建华"
    neighbour = next(t.unit for t in draw.tasks if t.unit_id != unit.id and t.unit.contact_name)
    user = db.session.execute(select(User).where(User.org_id == org.id).order_by(User.id)).scalars().first()
    findings = [
        f"疏散通道堵塞，{contact}称经{out.name}同意，电话{out.phone or '13812341188'}",
        f"灭火器压力不足，{neighbour.contact_name}与周建军在场，{user.display_name}已告知",
        "身份证号110101199003071234，联系人吴秀兰",
    ]
    ins = add_inspection(task, findings=findings)
    db.session.add(
        Signature(inspection_id=ins.id, role=SignerRole.UNIT, signer_name="周建军", record_hash="0", binding_hash="0")
    )
    order = add_order(ins, unit, status=OrderStatus.NOT_RECTIFIED)
    order.problems = [{"text": text, "basis": "《中华人民共和国消防法》第二十八条"} for text in findings]
    db.session.commit()

    pages = crawl(client)
    for token in db.session.execute(select(RectificationOrder.token)).scalars():
        crawl(client, f"/v/{token}", pages)
    for url in (
        "/public/items",
        "/public/plans",
        "/public/results",
        "/public/feed.atom",
        "/public/api/v1/results.json",
    ):
        assert url in pages, url
    assert "疏散通道堵塞" in pages["/public/results"] and "灭火器压力不足" in pages["/public/api/v1/results.json"]
    assert f"/public/draws/{draw.public_id}" in pages
    assert f"/public/draws/{draw.public_id}/bundle.json" in pages and "/public/verify.py" in pages

    allowed = set(db.session.execute(select(Unit.name)).scalars()) | set(
        db.session.execute(select(Organisation.name)).scalars()
    )
    people = set(db.session.execute(select(Inspector.name)).scalars())
    people |= set(db.session.execute(select(User.display_name)).scalars())
    people |= set(db.session.execute(select(DrawWitness.name)).scalars())
    people |= set(db.session.execute(select(Signature.signer_name)).scalars())
    people.add("吴秀兰")  # nobody the database knows: named after a cue word
    for col in (Unit.legal_rep, Unit.safety_person, Unit.contact_name):
        people |= set(db.session.execute(select(col).where(col.is_not(None))).scalars())
    phones = set(db.session.execute(select(Inspector.phone).where(Inspector.phone.is_not(None))).scalars())
    phones |= set(db.session.execute(select(Unit.contact_phone).where(Unit.contact_phone.is_not(None))).scalars())
    people = {p for p in people if len(p) >= 2}
    assert out.name in people and "周建军" in people and neighbour.contact_name in people and len(people) > 20
    assert f"/v/{order.token}" in pages and "灭火器压力不足" in pages[f"/v/{order.token}"]

    for url, body in pages.items():
        text = body
        for name in sorted(allowed, key=len, reverse=True):  # unit and organisation names are public
            text = text.replace(name, "")
        leaked = sorted(p for p in people if p in text)
        assert not leaked, f"{url} shows unmasked names {leaked[:5]}"
        leaked_phones = sorted(p for p in phones if p and (p in text or re.sub(r"\D", "", p) in text))
        assert not leaked_phones, f"{url} shows phone numbers {leaked_phones[:5]}"
        assert "199003071234" not in text, f"{url} shows an ID number"
