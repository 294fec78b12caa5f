"""Only the inspectors assigned to a task may read or change it; others get 404 (existence not disclosed)."""

from __future__ import annotations

import pytest

from tests.helpers import login, new_uuid
from webapp.inspections.models import Inspection

READS = ["", "/notice", "/notice.pdf", "/record"]


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


@pytest.mark.parametrize("who", ["other", "boss", "otherboss", None])
def test_others_cannot_read_or_change_the_task(client, db, scene, who):
    # the lead starts and records something first
    login(client, "lead")
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid()})
    client.post(_url(scene, f"/answers/{scene.points[0].id}"), data={"answer": "complies"})
    client.post("/logout")
    if who:
        login(client, who)
    expected_read = {"other": 404, "boss": 403, "otherboss": 403, None: 302}[who]
    for path in READS:
        assert client.get(_url(scene, path)).status_code == expected_read, path
    writes = [
        ("/start", {"client_uuid": new_uuid()}),
        (f"/answers/{scene.points[0].id}", {"answer": "fails"}),
        ("/findings", {"text": "伪造的问题"}),
        ("/result", {"result": "no_problem", "category": "no_problem"}),
        ("/partner", {}),
    ]
    for path, data in writes:
        assert client.post(_url(scene, path), data=data).status_code == expected_read, path
    db.session.expire_all()
    insp = db.session.query(Inspection).one()
    assert [a.answer.value for a in insp.answers] == ["complies"] and insp.findings == []


def test_unknown_task_is_404_for_an_inspector(client, db, scene):
    login(client, "lead")
    assert client.get("/inspections/tasks/T-nope").status_code == 404


def test_replaced_inspector_loses_access(client, db, scene):
    for a in scene.task.assignments:
        if a.role == "assist":
            a.active = False
    db.session.commit()
    login(client, "partner")
    assert client.get(_url(scene)).status_code == 404
