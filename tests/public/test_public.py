"""The public site (一公开): published draws, masking, the bundle and verifier downloads, caching.

A real draw is made through the ceremony services (create_plan, commit, add_witness, perform, publish)
on the test database; the downloaded bundle is checked with the downloaded standalone verifier.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import PHONE, PUBLIC_INSPECTOR_NAMES, WITNESS_NAME, run_draw
from webapp.draw import services
from webapp.draw.models import Draw

VERIFY_PY = Path(__file__).resolve().parents[2] / "webapp" / "draw" / "engine.py"  # the file served as verify.py


@pytest.fixture
def published(db, world) -> Draw:
    return run_draw(world)


def test_an_unpublished_draw_is_not_found_and_not_listed(client, db, world):
    draw = run_draw(world, publish=False)
    for url in (f"/public/draws/{draw.public_id}", f"/public/draws/{draw.public_id}/bundle.json"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "Set-Cookie" not in resp.headers
    assert client.get("/public/draws/D-does-not-exist").status_code == 404
    listing = client.get("/public/draws").get_data(as_text=True)
    assert draw.public_id not in listing
    assert "暂无已公布的抽取结果" in listing


def test_a_published_draw_shows_units_and_masked_inspectors_never_full_names(client, db, world, published):
    resp = client.get(f"/public/draws/{published.public_id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    drawn_units = {t.unit.name for t in published.tasks}
    assert drawn_units and all(name in html for name in drawn_units)
    assert published.commitment[:8] in html and published.server_secret[:8] in html and published.seed[:8] in html
    on_tasks = {a.inspector.name for t in published.tasks for a in t.active_assignments}
    assert on_tasks
    for name in [*PUBLIC_INSPECTOR_NAMES, WITNESS_NAME]:
        assert name not in html, f"unmasked name {name} on the public page"
    from webapp.masking import mask_name

    assert all(mask_name(n) in html for n in on_tasks)
    assert mask_name(WITNESS_NAME) in html and "廉政监督员" in html
    assert PHONE not in html
    assert "已公布" in html


def test_the_list_shows_published_draws_with_their_task_count(client, db, world, published):
    html = client.get("/public/draws").get_data(as_text=True)
    assert published.public_id in html
    assert "偃师区消防救援大队" in html
    assert f"{len(published.tasks)}项检查任务" in html
    landing = client.get("/public/").get_data(as_text=True)
    assert published.public_id in landing and "/public/verify" in landing


def _download(client, url: str) -> bytes:
    resp = client.get(url)
    assert resp.status_code == 200, url
    assert resp.headers["Content-Disposition"].startswith("attachment")
    return resp.data


def test_the_downloaded_bundle_passes_the_downloaded_standalone_verifier(client, db, world, published, tmp_path):
    task = published.tasks[0]
    victim = task.active_assignments[1].inspector.name
    services.replace(world.supervisor, published, task, 1, f"{victim}临时抽调，电话{PHONE}")
    db.session.commit()

    bundle = _download(client, f"/public/draws/{published.public_id}/bundle.json")
    verifier = _download(client, "/public/verify.py")
    assert victim not in bundle.decode() and PHONE not in bundle.decode()
    (tmp_path / "bundle.json").write_bytes(bundle)
    (tmp_path / "verify.py").write_bytes(verifier)
    out = subprocess.run(
        [sys.executable, "verify.py", "bundle.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "PASS" and any(published.public_id in line for line in lines)
    assert any("递补 pending closing: 1" in line for line in lines)  # published, not closed yet

    html = client.get(f"/public/draws/{published.public_id}").get_data(as_text=True)
    assert "递补抽取" in html and "临时抽调" in html
    assert victim not in html and PHONE not in html


def test_a_tampered_download_fails_the_verifier(client, db, world, published, tmp_path):
    bundle = _download(client, f"/public/draws/{published.public_id}/bundle.json").decode()
    first_unit = published.result[0]["unit_id"]
    other = next(u["id"] for u in published.pool["units"] if u["id"] not in {t["unit_id"] for t in published.result})
    (tmp_path / "bundle.json").write_text(bundle.replace(first_unit, other), encoding="utf-8")
    (tmp_path / "verify.py").write_bytes(_download(client, "/public/verify.py"))
    out = subprocess.run([sys.executable, "verify.py", "bundle.json"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 1 and "FAIL" in out.stdout


def test_the_verifier_download_is_byte_for_byte_the_file(client, db):
    resp = client.get("/public/verify.py")
    assert resp.status_code == 200
    assert resp.data == VERIFY_PY.read_bytes()
    assert resp.mimetype == "text/x-python"
    assert 'filename="verify.py"' in resp.headers["Content-Disposition"]


def test_an_abandoned_draw_is_public_as_abandoned_with_its_reason(client, db, world):
    draw = run_draw(world, publish=False)
    name = draw.tasks[0].active_assignments[0].inspector.name
    services.abandon(world.supervisor, draw, f"见证人未到场，{name}另有任务")
    db.session.commit()
    html = client.get(f"/public/draws/{draw.public_id}").get_data(as_text=True)
    assert "本次抽取已放弃" in html and "见证人未到场" in html and "已作废" in html
    assert name not in html
    assert draw.public_id in client.get("/public/draws").get_data(as_text=True)


PAGES = ["/public/", "/public/draws", "/public/verify", "/public/verify.py"]


def test_public_pages_set_no_cookie_and_are_publicly_cacheable(client, db, world, published):
    for url in [*PAGES, f"/public/draws/{published.public_id}", f"/public/draws/{published.public_id}/bundle.json"]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "Set-Cookie" not in resp.headers, url
        assert resp.headers["Cache-Control"].startswith("public, max-age="), url
        assert resp.headers.get("ETag") and resp.headers.get("Last-Modified"), url


def test_conditional_requests_get_304_until_the_draw_changes(client, db, world, published):
    url = f"/public/draws/{published.public_id}"
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and "Set-Cookie" not in again.headers
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    task = published.tasks[0]
    services.replace(world.supervisor, published, task, 0, "病假")
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "病假" in changed.get_data(as_text=True)

    etag = changed.headers["ETag"]
    task.unit.name = "偃师区更正名称后的商场"
    db.session.commit()
    renamed = client.get(url, headers={"If-None-Match": etag})
    assert renamed.status_code == 200 and "偃师区更正名称后的商场" in renamed.get_data(as_text=True)


def test_the_list_revalidates_when_a_draw_is_published(client, db, world):
    etag = client.get("/public/draws").headers["ETag"]
    assert client.get("/public/draws", headers={"If-None-Match": etag}).status_code == 304
    run_draw(world)
    assert client.get("/public/draws", headers={"If-None-Match": etag}).status_code == 200


def test_the_verify_page_explains_the_check_with_a_worked_example(client, db):
    html = client.get("/public/verify").get_data(as_text=True)
    for words in ("承诺值", "见证人", "随机种子", "一致抽样", "python verify.py bundle.json", "PASS", "一个算例"):
        assert words in html, words
    from webapp.public.example import worked_example

    ex = worked_example()
    assert ex.commitment[:8] in html and ex.seed[:8] in html
    assert sum(u.drawn for u in ex.units) == ex.quota


def test_a_logged_in_visitor_gets_the_same_page_but_privately_cached(client, db, world, published, login_as):
    login_as(world.supervisor)
    resp = client.get(f"/public/draws/{published.public_id}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-cache"
    assert PUBLIC_INSPECTOR_NAMES[0] not in resp.get_data(as_text=True)


def test_paging_of_the_list(client, db, world):
    from webapp.public import queries

    redrawn = run_draw(world, publish=False)
    services.abandon(world.supervisor, redrawn, "见证人输入有误，重新抽取")
    db.session.commit()
    final = run_draw(world)
    first, second = queries.draw_list(1, per_page=1), queries.draw_list(2, per_page=1)
    assert [r.public_id for r in first.rows] == [final.public_id] and first.has_next
    assert [r.public_id for r in second.rows] == [redrawn.public_id] and not second.has_next
    html = client.get("/public/draws").get_data(as_text=True)
    assert final.public_id in html and redrawn.public_id in html and "已放弃" in html
    assert client.get("/public/draws?page=abc").status_code == 200
    assert "暂无已公布的抽取结果" in client.get("/public/draws?page=9").get_data(as_text=True)
