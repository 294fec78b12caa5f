"""Signatures on the record: bound to the record as signed, re-signing after a change, refusal with a reason."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.helpers import login, new_uuid, sign_all, signature_strokes, signer_keys
from webapp.inspections.models import Inspection, Signature

HX = {"HX-Request": "true"}


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _ready(client, db, scene) -> str:
    login(client, "lead")
    cu = new_uuid()
    client.post(_url(scene, "/start"), data={"client_uuid": cu})
    for p in scene.points:
        client.post(_url(scene, f"/answers/{p.id}"), data={"answer": "complies"}, headers=HX)
    client.post(_url(scene, "/partner"))
    client.post(_url(scene, "/result"), data={"result": "no_problem", "category": "no_problem"})
    return cu


def test_unit_signature_is_kept_as_strokes_and_png(client, db, scene):
    _ready(client, db, scene)
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "王小明", "strokes": signature_strokes(), "width": 340, "height": 200},
        headers=HX,
    )
    assert r.status_code == 200 and "王小明" in r.get_data(as_text=True)
    sig = db.session.execute(select(Signature)).scalar_one()
    assert sig.strokes and len(sig.png_sha256) == 64 and len(sig.binding_hash) == 64 and not sig.refused
    png = client.get(f"/inspections/signatures/{sig.public_id}.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    client.post("/logout")
    login(client, "otherboss")
    assert client.get(f"/inspections/signatures/{sig.public_id}.png").status_code == 404
    client.post("/logout")
    login(client, "other")
    assert client.get(f"/inspections/signatures/{sig.public_id}.png").status_code == 404
    client.post("/logout")
    assert client.get(f"/inspections/signatures/{sig.public_id}.png").status_code == 302


def test_near_empty_signature_and_missing_name_are_refused(client, db, scene):
    _ready(client, db, scene)
    tick = json.dumps([{"points": [{"x": 10, "y": 10, "time": 1}, {"x": 14, "y": 14, "time": 20}]}])
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "王小明", "strokes": tick, "width": 340, "height": 200},
        headers=HX,
    )
    assert r.status_code == 422 and 'class="error"' in r.get_data(as_text=True)
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "", "strokes": signature_strokes(), "width": 340, "height": 200},
        headers=HX,
    )
    assert r.status_code == 422 and "请填写签字人姓名" in r.get_data(as_text=True)
    assert db.session.query(Signature).count() == 0


def test_refusal_is_recorded_with_a_reason(client, db, scene):
    _ready(client, db, scene)
    r = client.post(_url(scene, "/signatures"), data={"signer": "unit", "signer_name": "王小明", "refused": "1"})
    assert r.status_code == 422 and "请填写拒绝签字的原因" in r.get_data(as_text=True)
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "王小明", "refused": "1", "reason": "负责人不在场，店员拒绝签字"},
    )
    assert r.status_code == 200 and "拒绝签字" in r.get_data(as_text=True)
    sig = db.session.execute(select(Signature)).scalar_one()
    assert sig.refused and sig.refused_reason == "负责人不在场，店员拒绝签字" and sig.png_sha256 is None


def test_changing_the_record_after_signing_requires_signing_again(client, db, scene):
    cu = _ready(client, db, scene)
    sign_all(client, scene.task, signer_keys(scene.task))
    # a note added after signing changes the record
    client.post(_url(scene, f"/answers/{scene.points[0].id}"), data={"answer": "complies", "note": "补充说明"})
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "记录已修改，需重新签字" in page
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    r = client.post(_url(scene, "/submit"), data=data, headers=HX)
    assert r.status_code == 422 and "还需签字" in r.get_data(as_text=True)
    sign_all(client, scene.task, signer_keys(scene.task))
    assert client.post(_url(scene, "/submit"), data=data, headers=HX).status_code == 200
    db.session.expire_all()
    insp = db.session.execute(select(Inspection)).scalar_one()
    fingerprints = {s["png_sha256"] for s in insp.content["signatures"]}
    assert {s.png_sha256 for s in insp.signatures} == fingerprints and len(insp.signatures) == 3
    # signing a submitted record is refused
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "王小明", "strokes": signature_strokes(), "width": 340, "height": 200},
    )
    assert r.status_code == 409


def test_another_inspector_cannot_sign(client, db, scene):
    _ready(client, db, scene)
    client.post("/logout")
    login(client, "other")
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "冒名", "strokes": signature_strokes(), "width": 340, "height": 200},
    )
    assert r.status_code == 404 and db.session.query(Signature).count() == 0
