"""The Atom feed of published draws and results: well-formed Atom, masked, cacheable."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.factories import build_public_world, run_draw
from webapp.draw import services

A = "{http://www.w3.org/2005/Atom}"


def _feed(client):
    resp = client.get("/public/feed.atom")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    assert "Set-Cookie" not in resp.headers and resp.headers["ETag"]
    return resp, ET.fromstring(resp.data)  # noqa: S314 (our own response, parsed as the brief asks: xml.etree)


def test_the_feed_is_atom_with_published_draws_and_results(client, db, results):
    world = build_public_world()
    draw = run_draw(world, publish=False)
    _, root = _feed(client)
    assert not any(draw.public_id in e.find(f"{A}link").get("href") for e in root.findall(f"{A}entry"))
    services.publish(world.supervisor, draw)
    db.session.commit()
    resp, root = _feed(client)
    assert root.tag == f"{A}feed"
    assert root.find(f"{A}id").text and root.find(f"{A}updated").text and root.find(f"{A}title").text
    entries = root.findall(f"{A}entry")
    links = [e.find(f"{A}link").get("href") for e in entries]
    assert any(link.endswith(f"/public/draws/{draw.public_id}") for link in links)
    titles = " ".join(e.find(f"{A}title").text for e in entries)
    assert "偃师公开结果商贸有限公司" in titles and "偃师另一家五金店" in titles
    for e in entries:
        assert e.find(f"{A}id").text and e.find(f"{A}updated").text
    text = resp.get_data(as_text=True)
    for secret in ("赵建华", "王小锋", "李四海", "13812341188"):
        assert secret not in text


def test_the_feed_revalidates_until_something_new_is_published(client, db, results):
    first, _ = _feed(client)
    assert client.get("/public/feed.atom", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    world = build_public_world()
    run_draw(world)
    assert client.get("/public/feed.atom", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_the_feed_of_an_empty_site_is_still_valid(client, db):
    _, root = _feed(client)
    assert root.findall(f"{A}entry") == [] and root.find(f"{A}updated").text
