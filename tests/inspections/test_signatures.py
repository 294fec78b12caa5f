"""Signatures on the record: bound to the record as signed, re-signing after a change, refusal with a reason; the
PNG drawn once and stored; 代签 recorded and shown (issue 12)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from tests.documents.poppler import pdf_text
from tests.helpers import login, new_uuid, sign_all, signature_strokes, signer_keys
from webapp import storage
from webapp.audit import AuditEvent
from webapp.inspections import signature_pad
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
    for empty in ("", "[]"):  # an empty pad, posted without JavaScript: say so, not "unreadable"
        r = client.post(
            _url(scene, "/signatures"),
            data={"signer": "unit", "signer_name": "王小明", "strokes": empty, "width": 340, "height": 200},
            headers=HX,
        )
        assert r.status_code == 422 and "请签名后再提交" in r.get_data(as_text=True)
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


# ------------------------------------------------------------------ issue 12, finding 1: the PNG drawn once


def _hostile(n_strokes: int) -> str:
    """Long zig-zags over a 2400 × 1600 pad (finding 1 of the security review)."""
    strokes = [
        {
            "penColor": "black",
            "points": [
                {"x": 20 + (i * 97 + s * 13) % 2360, "y": 20 + (i * 61 + s * 7) % 1560, "time": s * 400 + i * 16}
                for i in range(24)
            ],
        }
        for s in range(n_strokes)
    ]
    return json.dumps(strokes, separators=(",", ":"))


def _count_drawings(monkeypatch) -> list[tuple[int, int]]:
    drawn: list[tuple[int, int]] = []
    real = signature_pad.render_png

    def counting(strokes, width, height):
        drawn.append((width, height))
        return real(strokes, width, height)

    monkeypatch.setattr(signature_pad, "render_png", counting)
    return drawn


def test_signature_png_is_drawn_once_when_saved_and_views_serve_the_stored_png(client, db, scene, monkeypatch):
    """Every view of the review's signature redrew it (9.95 s each); now views read the stored PNG."""
    drawn = _count_drawings(monkeypatch)
    _ready(client, db, scene)
    data = {"signer": "unit", "signer_name": "王小明", "strokes": _hostile(100), "width": 2400, "height": 1600}
    assert client.post(_url(scene, "/signatures"), data=data, headers=HX).status_code == 200
    sig = db.session.execute(select(Signature)).scalar_one()
    assert drawn == [(450, 300)]  # scaled into the bounded canvas, drawn once
    assert (sig.canvas_width, sig.canvas_height) == (450, 300)
    assert sig.png_key == sig.png_sha256
    pngs = [client.get(f"/inspections/signatures/{sig.public_id}.png") for _ in range(3)]
    assert all(r.status_code == 200 for r in pngs)
    assert drawn == [(450, 300)]  # no view drew it again
    assert pngs[0].data == storage.get(sig.png_key, "png")
    assert hashlib.sha256(pngs[0].data).hexdigest() == sig.png_sha256


def test_the_reviews_hostile_signature_is_refused_next_to_the_pad(client, db, scene):
    _ready(client, db, scene)
    data = {"signer": "unit", "signer_name": "王小明", "strokes": _hostile(200), "width": 2400, "height": 1600}
    r = client.post(_url(scene, "/signatures"), data=data, headers=HX)
    assert r.status_code == 422 and "签名笔画过多" in r.get_data(as_text=True)
    assert db.session.query(Signature).count() == 0


def test_a_signature_saved_before_pngs_were_stored_is_drawn_once_on_first_view(client, db, scene, monkeypatch):
    _ready(client, db, scene)
    r = client.post(
        _url(scene, "/signatures"),
        data={"signer": "unit", "signer_name": "王小明", "strokes": signature_strokes(), "width": 340, "height": 200},
    )
    assert r.status_code == 200
    sig = db.session.execute(select(Signature)).scalar_one()
    sig.png_key = None  # as every signature saved before issue 12
    db.session.commit()
    drawn = _count_drawings(monkeypatch)
    first = client.get(f"/inspections/signatures/{sig.public_id}.png")
    second = client.get(f"/inspections/signatures/{sig.public_id}.png")
    assert first.status_code == second.status_code == 200 and first.data == second.data
    assert drawn == [(340, 200)]  # drawn at the size it was signed at, once
    db.session.expire_all()
    sig = db.session.execute(select(Signature)).scalar_one()
    # the same bytes as the fingerprint recorded when it was signed: the record's hash still holds
    assert sig.png_key == sig.png_sha256 == hashlib.sha256(first.data).hexdigest()


# ------------------------------------------------------------------ issue 12, finding 11: 代签


def _sign_partner(client, scene, **extra):
    partner = next(a for a in scene.task.active_assignments if a.inspector.user_id == scene.partner.id)
    data = {"signer": f"inspector:{partner.inspector_id}", "strokes": signature_strokes(), "width": 340, "height": 200}
    return client.post(_url(scene, "/signatures"), data={**data, **extra}, headers=HX)


def test_the_lead_cannot_sign_for_the_partner_without_a_reason(client, db, scene):
    _ready(client, db, scene)
    r = _sign_partner(client, scene)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "为其他检查人员代签，须填写代签原因" in html and 'id="proxy_reason"' in html
    assert db.session.query(Signature).count() == 0


def test_signing_for_the_partner_is_recorded_and_shown_as_proxy_with_the_reason(client, db, scene, tmp_path):
    cu = _ready(client, db, scene)
    reason = "赵志刚手机没电，在李卫国手机上签字"
    r = _sign_partner(client, scene, proxy_reason=reason)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "代签" in html and "由李卫国代签" in html and reason in html
    sig = db.session.execute(select(Signature)).scalar_one()
    assert sig.signer_name == "赵志刚" and sig.proxy_by.name == "李卫国" and sig.proxy_reason == reason
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "inspection.sign")).scalar_one()
    assert json.loads(event.data)["proxy_by"] == "李卫国" and event.reason == reason
    sign_all(client, scene.task, ["unit", f"inspector:{sig.proxy_by_id}"])
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    assert client.post(_url(scene, "/submit"), data=data, headers=HX).status_code == 200
    db.session.expire_all()
    insp = db.session.execute(select(Inspection)).scalar_one()
    proxied = [s for s in insp.content["signatures"] if s.get("proxy")]
    assert [s["proxy"]["reason"] for s in proxied] == [reason]  # part of the submitted, hashed content
    assert "由李卫国代签" in client.get(_url(scene, "/record")).get_data(as_text=True)
    pdf = client.get(_url(scene, "/check-form.pdf"))
    assert pdf.status_code == 200
    text = "".join(pdf_text(pdf.data, tmp_path).split())
    assert "执法检查人员：赵志刚（代签）" in text and "代签：赵志刚，由李卫国代签，原因：" + reason in text


def test_signing_for_oneself_is_not_proxy_and_needs_no_reason(client, db, scene):
    _ready(client, db, scene)
    client.post("/logout")
    login(client, "partner")
    r = _sign_partner(client, scene)
    assert r.status_code == 200 and "代签" not in r.get_data(as_text=True).split('id="sign-form"')[0]
    sig = db.session.execute(select(Signature)).scalar_one()
    assert sig.proxy_by_id is None and sig.proxy_reason is None
