"""Locust users for benchmarks/load.py: inspectors doing whole inspections on their phones, over HTTP only.

Run by benchmarks/load.py as its own process (``.venv/bin/locust -f benchmarks/locustfile.py --headless …``):
locust monkey-patches ``ssl`` and the standard library for gevent, so nothing of the app is imported here and
this file is never imported by another process. Everything comes from the pages, as a browser would see them.

Each simulated user is one inspector account (``LOAD_USER_PREFIX`` + 1, 2, … in the order users start) and
repeats the flow of the issue: log in once, then per inspection 我的任务 → the task → check in (开始检查) → the
record → partner present → every checklist point → a finding → the result → signatures (unit, self, partner
as 代签) → submit → the submitted record. Think time between requests is ``LOAD_WAIT_MIN``–``LOAD_WAIT_MAX``
seconds. A submit that fails (connection reset, 5xx — a worker killed by load.py) is retried with the same
record UUID, as the phone's page does; every acknowledged submit (2xx) is appended to ``LOAD_ACK_FILE`` as
``task_public_id client_uuid`` for load.py's data accounting.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re

from locust import HttpUser, between, task

PREFIX = os.environ.get("LOAD_USER_PREFIX", "load-insp-")
PASSWORD = os.environ.get("LOAD_PASSWORD", "suijian-load")
ACK_FILE = os.environ.get("LOAD_ACK_FILE", "")
WAIT = (float(os.environ.get("LOAD_WAIT_MIN", "1")), float(os.environ.get("LOAD_WAIT_MAX", "3")))
RETRIES = 5
HX = {"HX-Request": "true"}

_numbers = itertools.count(1)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')
HX_CSRF_RE = re.compile(r"\"X-CSRFToken\": \"([^\"]+)\"")
TASK_RE = re.compile(r'<a href="/inspections/tasks/([^"/]+)">')
UUID_RE = re.compile(r'name="client_uuid" value="([0-9a-f-]{36})"')
POINT_RE = re.compile(r'hx-post="/inspections/tasks/[^"/]+/answers/(\d+)"')
SIGNER_RE = re.compile(r'<option value="((?:unit|inspector:\d+))"( data-proxy)?')


def strokes() -> str:
    """A handwritten-like zig-zag on a 340 x 200 pad (as tests/helpers.signature_strokes)."""
    points = [{"x": 30 + i * 5, "y": 60 + (i % 6) * 15, "time": 1000 + i * 16, "pressure": 0.5} for i in range(50)]
    return json.dumps([{"penColor": "black", "points": points}])


def open_tasks(page: str) -> list[str]:
    """Task ids of 我的任务 outside the 已完成 group, in the page's order."""
    out: list[str] = []
    for section in page.split('<h2 class="group-head')[1:]:
        title = section.split(">", 1)[1].split("<", 1)[0].strip()
        if title.startswith("已完成"):
            continue
        out += TASK_RE.findall(section)
    return out


class Inspector(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.username = f"{PREFIX}{next(_numbers)}"
        self.csrf = ""
        self.logged_in = False
        self.login()

    # ------------------------------------------------------------------------------------------ helpers

    def login(self) -> None:
        page = self.client.get("/login", name="GET /login")
        m = HX_CSRF_RE.search(page.text) or CSRF_RE.search(page.text)
        token = html.unescape(m.group(1)) if m else ""
        with self.client.post(
            "/login",
            data={"username": self.username, "password": PASSWORD, "csrf_token": token},
            name="POST /login",
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            if resp.status_code in (302, 303):
                self.logged_in = True
                resp.success()
            else:
                resp.failure(f"login {resp.status_code}")

    def _remember_csrf(self, text: str) -> None:
        m = HX_CSRF_RE.search(text) or CSRF_RE.search(text)
        if m:
            self.csrf = html.unescape(m.group(1))

    def post(self, path: str, name: str, data: dict, expect=(200, 303), htmx: bool = True):
        headers = {"X-CSRFToken": self.csrf, **(HX if htmx else {})}
        with self.client.post(
            path, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as resp:
            if resp.status_code in expect:
                resp.success()
            else:
                resp.failure(f"{resp.status_code}")
            return resp

    def think(self) -> None:
        self.wait()

    # --------------------------------------------------------------------------------------------- flow

    @task
    def inspection(self) -> None:
        if not self.logged_in:
            self.login()
            return
        me = self.client.get("/me", name="GET /me (我的任务)")
        self._remember_csrf(me.text)
        tasks = open_tasks(me.text)
        if not tasks:
            self.think()
            return
        tid = tasks[0]
        base = f"/inspections/tasks/{tid}"
        self.think()
        page = self.client.get(base, name="GET task")
        m = UUID_RE.search(page.text)
        if m:  # not started yet: check in (a task already started goes straight to its record)
            self.think()
            self.post(
                f"{base}/start",
                "POST start (check-in)",
                {"client_uuid": m.group(1), "lat": "34.7272", "lon": "112.7878", "accuracy": "15"},
                htmx=False,
            )
        record = self.client.get(f"{base}/record", name="GET record")
        self._remember_csrf(record.text)
        submit_part = record.text.split('id="submit"', 1)
        m = UUID_RE.search(submit_part[1]) if len(submit_part) == 2 else None
        if not m:
            return  # no draft to fill (submitted meanwhile, or the check-in failed): next round
        client_uuid = m.group(1)
        points = list(dict.fromkeys(POINT_RE.findall(record.text)))
        signers = SIGNER_RE.findall(record.text)

        self.think()
        self.post(f"{base}/partner", "POST partner present", {}, htmx=False)
        for point in points:
            self.think()
            self.post(f"{base}/answers/{point}", "POST answer", {"answer": "complies", "note": ""})
        self.think()
        self.post(
            f"{base}/findings",
            "POST finding",
            {"text": "疏散通道堆放杂物", "legal_basis": "《中华人民共和国消防法》第二十八条"},
        )
        result = {"client_uuid": client_uuid, "result": "deadline", "category": "ordered_rectify", "remarks": ""}
        self.think()
        self.post(f"{base}/result", "POST result", result)
        for key, proxy in signers:
            data = {"signer": key, "strokes": strokes(), "width": "340", "height": "200"}
            if key == "unit":
                data["signer_name"] = "王小明"
            if proxy:
                data["proxy_reason"] = "同组人员手机没电"
            self.think()
            self.post(f"{base}/signatures", "POST signature", data)
        self.think()
        for attempt in range(RETRIES):
            name = "POST submit" if attempt == 0 else "POST submit (retry)"
            try:
                resp = self.post(f"{base}/submit", name, result)
            except Exception:  # the connection broke: retry as the page does
                resp = None
            if resp is not None and resp.status_code == 200:
                if ACK_FILE:
                    with open(ACK_FILE, "a", encoding="utf-8") as fh:
                        fh.write(f"{tid} {client_uuid}\n")
                break
            if resp is not None and resp.status_code in (409, 422):
                break  # refused with a reason: nothing to retry
            self.wait()
        self.think()
        self.client.get(f"{base}/record", name="GET record (submitted)")
