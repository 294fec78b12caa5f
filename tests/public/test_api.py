"""/public/api/v1/results.json: paged, stable field names, masked, cacheable."""

from __future__ import annotations

import json

from tests.factories import USCC, add_inspection, manual_task
from webapp.inspections.models import PublishedCategory

FIELDS = {"unit", "uscc", "item", "date", "organisation", "category", "rectification_status"}


def _get(client, **params):
    resp = client.get("/public/api/v1/results.json", query_string=params)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "Set-Cookie" not in resp.headers and resp.headers["ETag"]
    return resp, json.loads(resp.data)


def test_results_have_the_documented_fields(client, db, results):
    resp, data = _get(client, q=USCC)
    assert data["page"] == 1 and data["has_next"] is False and data["next"] is None
    [row] = data["results"]
    assert row.keys() >= FIELDS
    assert row["unit"] == "偃师公开结果商贸有限公司" and row["uscc"] == USCC and row["date"] == "2026-11-20"
    assert row["organisation"] == "偃师区消防救援大队" and row["category"] == "ordered_rectify"
    assert row["rectification_status"] == "not_rectified"
    assert row["penalties"] == [{"decision_number": "偃消行罚决字〔2026〕0012号", "decision_date": "2026-12-03"}]
    text = resp.get_data(as_text=True)
    for secret in ("赵建华", "王小锋", "李四海", "13812341188", "合格"):
        assert secret not in text


def test_results_are_paged_with_a_next_link(client, db, results):
    for _ in range(21):
        task = manual_task(results.org, results.other_unit, results.item, [])
        add_inspection(task, category=PublishedCategory.NO_PROBLEM)
    db.session.commit()
    _, first = _get(client)
    assert len(first["results"]) == 20 and first["has_next"] is True
    resp = client.get(first["next"])
    assert resp.status_code == 200
    second = json.loads(resp.data)
    assert second["page"] == 2 and len(second["results"]) == 3 and second["next"] is None
    assert len({r["id"] for r in first["results"] + second["results"]}) == 23


def test_the_api_answers_304_when_nothing_changed(client, db, results):
    first, _ = _get(client)
    again = client.get("/public/api/v1/results.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
