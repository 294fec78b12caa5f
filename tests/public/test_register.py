"""The public register (抽取公示名册) and its Atom feed: every committed draw from its commitment on, with the
heads of its ceremony log; event data other than the commitment hidden until publication; no personal names."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.factories import PUBLIC_INSPECTOR_NAMES, WITNESS_NAME, next_period, run_draw
from webapp import calendar
from webapp.draw import services as draw_services
from webapp.extensions import db

ATOM = "{http://www.w3.org/2005/Atom}"
EARLY = "下月初有重大活动，提前抽取"


def test_register_lists_a_committed_unpublished_draw_with_heads_and_hides_data(client, world):
    draw = draw_services.commit(world.supervisor, world.plan, next_period(), early_reason=EARLY)
    db.session.commit()
    draw_services.add_witness(world.supervisor, draw, WITNESS_NAME, "廉政监督员", "8675309")
    db.session.commit()
    draw_services.perform(world.supervisor, draw)
    db.session.commit()
    html = client.get("/public/register").get_data(as_text=True)
    assert draw.public_id in html and world.org.name in html
    for value in (draw.pool_hash, draw.commitment, draw.replacement_commitment):
        assert value[:8] in html
    for event in draw.events:
        assert event.head[:8] in html and event.head[56:] in html
    assert "8675309" not in html and "result_hash" not in html  # witness and draw data hidden until publication
    assert draw.events[0].data["org"] in html  # the commit event's data are public at once
    assert (EARLY in html) == draw_services.is_early(draw.period, calendar.today())  # early at the test clock?
    for secret in (draw.seed, draw.server_secret, draw.replacement_secret):
        assert secret not in html
    for name in (*PUBLIC_INSPECTOR_NAMES, WITNESS_NAME):
        assert name not in html
    assert "/public/register" in client.get("/public/").get_data(as_text=True)  # in the nav
    draw_services.publish(world.supervisor, draw)
    db.session.commit()
    html = client.get("/public/register").get_data(as_text=True)
    assert "8675309" in html and "result_hash" in html and draw.replacement_secret not in html
    page = client.get(f"/public/draws/{draw.public_id}").get_data(as_text=True)
    assert "/public/register#d-" + draw.public_id in page


def test_register_feed_parses_and_carries_the_heads(client, world):
    draw = run_draw(world, publish=False)
    feed = client.get("/public/register.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)  # noqa: S314 (our own response, parsed with xml.etree as the brief asks)
    entries = root.findall(f"{ATOM}entry")
    [entry] = [e for e in entries if draw.public_id in e.find(f"{ATOM}id").text]
    summary = entry.find(f"{ATOM}summary").text
    assert draw.commitment in summary and draw.replacement_commitment in summary and draw.pool_hash in summary
    for event in draw.events:
        assert event.head in summary
    assert draw.server_secret not in feed.get_data(as_text=True)


def test_public_draw_page_shows_what_was_drawn_beside_the_quota(client, world):
    draw = run_draw(world)
    html = client.get(f"/public/draws/{draw.public_id}").get_data(as_text=True)
    assert "<th>本期抽取</th><th>配额</th>" in html.replace("\n", "")
    drawn = len(draw.result)
    cells = html.split("<tr><td>")[1:]
    assert sum(int(c.split("</td><td>")[2]) for c in cells if c.count("</td><td>") >= 3) == drawn


def test_the_register_and_its_feed_are_revalidated_on_every_visit(client, db):
    """A citizen checking a head right after a ceremony step never gets a copy minutes old."""
    for url in ("/public/register", "/public/register.atom"):
        assert client.get(url).headers["Cache-Control"] == "public, no-cache"
    assert "max-age" in client.get("/public/draws").headers["Cache-Control"]  # other pages stay cacheable
