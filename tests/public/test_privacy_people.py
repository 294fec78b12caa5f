"""Finding 10 (privacy): every person the database knows is masked in free text on every public surface.

A finding typed by an inspector names people who are not the record's own unit contact or inspector: the
contact of another unit of the organisation (李小红), the unit's signer (周建军, also signer of an earlier
check), a user, an inspector not on the task and a witness of a draw. None of them may appear in full on the
results page, the JSON API, the Atom feed, the notice verification page (/v/<token>) or a public draw page;
names given after cue words (联系人、经理 …) are masked even when the database does not know them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.factories import (
    NOW,
    WITNESS_NAME,
    add_inspection,
    add_order,
    build_public_world,
    make_inspector,
    make_unit,
    make_user,
    manual_task,
    run_draw,
)
from webapp.auth.models import Role
from webapp.draw import services as draw_services
from webapp.draw.models import Draw
from webapp.extensions import db as _db
from webapp.inspections.models import Inspection, PublishedCategory, Signature, SignerRole
from webapp.rectification.models import OrderStatus, RectificationOrder

CONTACT = "李小红"  # contact of another unit of the organisation
SIGNER = "周建军"  # the unit's signer on this record and on an earlier one
USER = "孙丽娟"  # a user of the organisation (no inspector)
OTHER_INSPECTOR = "钱志强"  # an inspector of the organisation, not on this task
UNKNOWN = "陈国栋"  # nobody the database knows, named after a cue word
PEOPLE = (CONTACT, SIGNER, USER, OTHER_INSPECTOR, WITNESS_NAME, UNKNOWN)
FINDING = f"疏散通道堆放杂物，{CONTACT}称经{SIGNER}同意"
SECOND = f"灭火器压力不足，{USER}、{OTHER_INSPECTOR}、{WITNESS_NAME}在场，经理{UNKNOWN}未签字"


@dataclass
class Scene:
    draw: Draw
    record: Inspection
    order: RectificationOrder


def _sign(ins: Inspection, name: str, role: SignerRole = SignerRole.UNIT) -> None:
    _db.session.add(
        Signature(inspection_id=ins.id, role=role, signer_name=name, record_hash="0" * 64, binding_hash="0" * 64)
    )
    _db.session.flush()


def _scene() -> Scene:
    world = build_public_world()
    draw = run_draw(world)
    org, item = world.org, world.item
    make_unit(org, name="洛阳好运来超市二分店", contact_name=CONTACT, safety_person="王建民")
    make_user(org, Role.INSPECTOR, display_name=USER)
    make_inspector(org, name=OTHER_INSPECTOR)
    unit = make_unit(org, name="洛阳好运来超市", safety_person="赵建华")
    lead, partner = make_inspector(org, name="何晓东"), make_inspector(org, name="郑海涛")
    earlier = add_inspection(manual_task(org, unit, item, [lead]), category=PublishedCategory.NO_PROBLEM)
    earlier.submitted_at = earlier.published_at = NOW - dt.timedelta(days=90)
    _sign(earlier, SIGNER)
    record = add_inspection(manual_task(org, unit, item, [lead, partner]), findings=[FINDING, SECOND])
    _sign(record, SIGNER)
    _sign(record, "何晓东", SignerRole.INSPECTOR)
    order = add_order(record, unit, status=OrderStatus.PENDING)
    order.problems = [
        {"text": FINDING, "basis": "《中华人民共和国消防法》第二十八条"},
        {"text": SECOND, "basis": f"经{CONTACT}确认"},
    ]
    # a replacement on the public draw page whose reason names a unit contact and a user
    task = draw.tasks[0]
    draw_services.replace(world.supervisor, draw, task, 1, f"回避：{CONTACT}系其亲属，{USER}告知")
    _db.session.commit()
    return Scene(draw, record, order)


def _leaks(body: str) -> list[str]:
    return [name for name in PEOPLE if name in body]


def test_results_page_masks_every_known_person_and_cued_names(client, db):
    _scene()
    body = client.get("/public/results").get_data(as_text=True)
    assert "疏散通道堆放杂物" in body and "灭火器压力不足" in body
    assert _leaks(body) == []
    assert "李*红称经周*军同意" in body and "经理陈*栋" in body


def test_results_api_masks_every_known_person(client, db):
    _scene()
    body = client.get("/public/api/v1/results.json").get_data(as_text=True)
    assert "疏散通道堆放杂物" in body
    assert _leaks(body) == []


def test_feed_shows_no_full_name(client, db):
    _scene()
    body = client.get("/public/feed.atom").get_data(as_text=True)
    assert "洛阳好运来超市" in body
    assert _leaks(body) == []


def test_verify_page_masks_the_signer_like_the_results_page(client, db):
    scene = _scene()
    body = client.get(f"/v/{scene.order.token}").get_data(as_text=True)
    assert "疏散通道堆放杂物" in body and "本文书由本系统出具" in body
    assert _leaks(body) == []
    assert "周*军" in body and "李*红" in body and "何*东" in body


def test_draw_page_and_bundle_mask_unit_contacts_and_users_in_reasons(client, db):
    scene = _scene()
    page = client.get(f"/public/draws/{scene.draw.public_id}").get_data(as_text=True)
    bundle = client.get(f"/public/draws/{scene.draw.public_id}/bundle.json").get_data(as_text=True)
    for body in (page, bundle):
        assert "系其亲属" in body
        assert _leaks(body) == []
