"""Offline on site (issue 10): the size of the day's pack, and the time to sync a morning's queued work on slow 3G.

Part 1, pack size: a demo database (``webapp.demo.load_demo``, SQLite under /tmp), CSRF on; a new inspector of the
demo's first 大队 (login ``bench-offline``) gets ``--tasks`` open tasks (one overdue, the others over the coming
six days, the fire item's real checklist), so the pack holds exactly those. Logged in, it fetches
/offline/pack.json, then every page of the pack with ``X-SuiJian-Pack: 1`` (我的任务, each task page, each record
page — rendered as an empty draft — each 行政检查通知书, the device page) and every asset (CSS, JS, vendor files,
icons, the offline shell), as the service worker does. Reported per kind: raw / gzip -6 / brotli (if the
``brotli`` module is installed) bytes; photos are not part of the pack. Target: ≤ 300 KB compressed, shell
included (issue 10).

Part 2, sync time: Chromium (Debian's, at iPhone 13 size, a persistent profile) against a live server over a
fresh SQLite database. Online: log in, open 我的任务 so the pack is kept. Offline: check in, then the changes of a
record — answers on a long checklist, five findings with two photos each (1600 × 1200 photo-like JPEGs, what
the phone sends after its own downscale), the result — until ``--changes`` entries wait in the outbox, ``--photos``
of them photos. Then slow 3G through CDP (``Network.emulateNetworkConditions``: 400 ms latency, 400 kbit/s down,
20 KB/s up) and back online: the time from the network's return until the outbox holds nothing queued or sending
(the client syncs by itself on ``online``; nobody taps 立即同步), and what the database then holds.

    .venv/bin/python benchmarks/offline.py
    .venv/bin/python benchmarks/offline.py --no-sync          # pack size only (no browser)
    .venv/bin/python benchmarks/offline.py --tasks 20 --changes 80 --photos 10

Wipes /tmp/suijian-bench-offline-*.db; the browser profile and storage live in a scratch folder under /tmp,
removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import os
import re
import shutil
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import select

from webapp import create_app
from webapp.extensions import db

try:
    import brotli  # type: ignore[import-not-found]
except ImportError:  # not installed: brotli columns show "-"
    brotli = None

PACK_DB = "/tmp/suijian-bench-offline-pack.db"  # noqa: S108
SYNC_DB = "/tmp/suijian-bench-offline-sync.db"  # noqa: S108
TARGET_KB = 300
PASSWORD = "suijian-demo"  # noqa: S105 - the demo's and this throwaway account's password


def sizes(data: bytes) -> tuple[int, int, int | str]:
    br = len(brotli.compress(data, quality=11)) if brotli else "-"
    return len(data), len(gzip.compress(data, compresslevel=6)), br


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y if isinstance(x, int) and isinstance(y, int) else "-" for x, y in zip(a, b, strict=True))


def _wipe(path: str) -> None:
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p):
            os.remove(p)


def _app(path: str, tmp: str, csrf: bool = True):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": c.sqlite_url(path),
            "WTF_CSRF_ENABLED": csrf,
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
            "QUEUE_IMMEDIATE": True,
        }
    )


def add_inspector_with_tasks(tasks: int, points: int | None = None) -> dict:
    """A new inspector (``bench-offline``) with ``tasks`` open tasks and a partner, in the first 大队 with units.

    With ``points``, the tasks use a new item whose checklist has that many points; otherwise the fire item.
    """
    from webapp.auth.models import Role, User
    from webapp.catalog.models import ChecklistPoint, Item, ItemVersion
    from webapp.registry.models import Inspector, Unit
    from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

    unit_org = db.session.execute(select(Unit.org_id).limit(1)).scalar_one()
    user = User(username="bench-offline", display_name="离线基准", role=Role.INSPECTOR, org_id=unit_org)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    today = dt.date.today()
    me = Inspector(
        org_id=unit_org,
        user_id=user.id,
        name="离线基准",
        post="专职消防监督员",
        cert_no=f"豫{uuid.uuid4().int % 10**8:08d}",
        cert_valid_until=today + dt.timedelta(days=365),
        can_lead=True,
        draw_weight=100,
    )
    partner = Inspector(
        org_id=unit_org,
        name="离线协办",
        post="专职消防监督员",
        cert_no=f"豫{uuid.uuid4().int % 10**8:08d}",
        cert_valid_until=today + dt.timedelta(days=365),
        can_lead=True,
        draw_weight=100,
    )
    db.session.add_all([me, partner])
    db.session.flush()
    if points:
        item = Item(code="bench-offline-item", org_id=unit_org)
        db.session.add(item)
        db.session.flush()
        version = ItemVersion(
            item_id=item.id,
            version=1,
            name="对单位履行消防安全职责情况的日常监督抽查",
            basis="《中华人民共和国消防法》、《消防监督检查规定》（公安部令第120号）",
            subject="区消防救援大队",
            target="机关、团体、企业、事业等单位",
            category="一般检查事项",
            methods="现场检查",
            ratio_frequency="消防安全重点单位100%",
            departments="fire",
        )
        db.session.add(version)
        db.session.flush()
        for i in range(1, points + 1):
            db.session.add(ChecklistPoint(item_version_id=version.id, seq=i, dept="fire", text=f"检查内容第{i}项"))
        version_id = version.id
    else:
        item = db.session.execute(select(Item).where(Item.code == "fire-duty")).scalars().first()
        version_id = db.session.execute(
            select(ItemVersion.id).where(ItemVersion.item_id == item.id).order_by(ItemVersion.version.desc()).limit(1)
        ).scalar_one()
    units = list(db.session.execute(select(Unit.id).where(Unit.org_id == unit_org).limit(tasks)).scalars())
    ids = []
    for n in range(tasks):
        task = Task(
            org_id=unit_org,
            unit_id=units[n % len(units)],
            item_version_id=version_id,
            kind=TaskKind.COMPLAINT,
            planned_date=today + dt.timedelta(days=-1 if n == 0 else (n - 1) % 7),
            status=TaskStatus.PLANNED,
            origin_note="举报投诉",
        )
        db.session.add(task)
        db.session.flush()
        for slot, iid in enumerate((me.id, partner.id)):
            role = "lead" if slot == 0 else "assist"
            db.session.add(TaskAssignment(task_id=task.id, slot=slot, dept="fire", role=role, inspector_id=iid))
        ids.append(task.public_id)
    db.session.commit()
    return {"user_id": user.id, "tasks": ids}


# ------------------------------------------------------------------------------------------------ pack size


def pack_size(tasks: int) -> list[tuple]:
    from webapp.demo import load_demo

    tmp = tempfile.mkdtemp(prefix="suijian-bench-offline-")
    _wipe(PACK_DB)
    app = _app(PACK_DB, tmp)
    c.reset_schema(app)
    with app.app_context():
        load_demo(units=300, seed=7)
        db.session.commit()
        made = add_inspector_with_tasks(tasks)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    resp = client.post("/login", data={"username": "bench-offline", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    r = client.get("/offline/pack.json")
    assert r.status_code == 200, r.status_code
    pack = r.get_json()
    in_pack = {p.rstrip("/").split("/")[3] for p in pack["pages"] if p.startswith("/inspections/tasks/")}
    assert in_pack == set(made["tasks"]), f"the pack holds {len(in_pack)} tasks, expected {tasks}"

    groups: dict[str, tuple] = {}
    counts: dict[str, int] = {}

    def add(kind: str, data: bytes) -> None:
        groups[kind] = _add(groups.get(kind, (0, 0, 0 if brotli else "-")), sizes(data))
        counts[kind] = counts.get(kind, 0) + 1

    add("pack.json", r.get_data())
    for url in pack["pages"]:
        r = client.get(url, headers={"X-SuiJian-Pack": "1"})
        assert r.status_code == 200, (url, r.status_code)
        if url == "/me":
            kind = "我的任务 /me"
        elif url.endswith("/record"):
            kind = "record pages (empty drafts)"
        elif url.endswith("/notice"):
            kind = "行政检查通知书 pages"
        elif url.startswith("/inspections/tasks/"):
            kind = "task pages"
        else:
            kind = "other pages (" + url + ")"
        add(kind, r.get_data())
    for url in pack["assets"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        add("shell page" if url == "/offline/shell" else "assets (CSS, JS, vendor, icons)", r.get_data())
        r.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    rows = [(kind, counts[kind], *size) for kind, size in groups.items()]
    total = (0, 0, 0 if brotli else "-")
    for size in groups.values():
        total = _add(total, size)
    rows.append(("total", sum(counts.values()), *total))
    return rows


# ------------------------------------------------------------------------------------------------ sync time


def photo(seed: int) -> bytes:
    """A 1600 × 1200 photo-like JPEG (what the phone sends after its own downscale)."""
    from photos import photo_like

    im = photo_like((1600, 1200)).rotate(seed * 7)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def sync_time(changes: int, photos: int) -> list[tuple]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.browser import SLOW_3G, LiveServer, Phone, Radio, login, outbox, pending, wait_cached
    from tests.helpers import reset_schema

    findings = 5
    assert photos % findings == 0, "photos are spread over five findings"
    answers = changes - 1 - findings - photos - 1  # check-in, findings, photos, result
    assert answers > 0, "not enough changes for the checklist"
    tmp = tempfile.mkdtemp(prefix="suijian-bench-offline-")
    _wipe(SYNC_DB)
    app = _app(SYNC_DB, tmp)
    reset_schema(app)
    with app.app_context():
        from webapp.demo import load_demo

        load_demo(units=50, seed=7)
        db.session.commit()
        made = add_inspector_with_tasks(1, points=answers)
    server = LiveServer(app).start()
    radio = Radio(server.port)  # the phone's network: cut while offline, its worker's requests included
    pid = made["tasks"][0]
    record_url = f"/inspections/tasks/{pid}/record"
    images = [photo(i) for i in range(photos)]
    rows: list[tuple] = []
    try:
        with sync_playwright() as pw:
            phone = Phone(pw, os.path.join(tmp, "profile"), radio.base, "bench", radio=radio)
            page = phone.open()
            login(page, phone.base, "bench-offline", PASSWORD)
            page.goto(phone.base + "/me")
            wait_cached(page, ["/me", f"/inspections/tasks/{pid}", record_url])
            page.goto(phone.base + f"/inspections/tasks/{pid}")
            phone.set_offline(True)
            page.get_by_role("button", name="开始检查").click()
            try:
                page.wait_for_url("**/record", timeout=5000)
            except PlaywrightTimeout:  # the phone shows a link to the record instead of going on by itself
                page.locator("#checkin-offline a").click()
                page.wait_for_url("**/record")
            for row in page.locator("li[data-point-id]").all():
                row.get_by_label("符合", exact=True).check()
            add = page.locator("form[data-offline-key='finding:new']")
            per = photos // findings
            for f in range(findings):
                text = f"第{f + 1}处：疏散通道堆放杂物"
                add.locator("textarea[name=text]").fill(text)
                add.locator("input[name=legal_basis]").fill("《中华人民共和国消防法》第二十八条")
                add.get_by_role("button", name="添加问题").click()
                item = page.locator(f"li[data-finding-text='{text}']")
                expect(item).to_be_visible()
                for k in range(per):
                    item.locator("form[data-offline-key^='photo:'] input[type=file]").set_input_files(
                        files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": images[f * per + k]}]
                    )
                    page.wait_for_function(
                        "([n, want]) => document.querySelectorAll(n).length >= want",
                        arg=[f"li[data-finding-text='{text}'] .photos img", k + 1],
                    )
            page.locator("#result-form select[name=result]").select_option("deadline")
            page.locator("#result-form select[name=category]").select_option("ordered_rectify")
            deadline = time.monotonic() + 30
            while len(pending(page)) < changes and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            queued = pending(page)
            sent_bytes = sum(f.get("blob", {}).get("blob", 0) for e in queued for f in e.get("files") or [])
            print(f"  {len(queued)} changes queued ({photos} photos, {sent_bytes / 1024:.0f} KB of images)", flush=True)
            phone.throttle(SLOW_3G)
            before = len(server.hits)
            t0 = time.perf_counter()
            phone.set_offline(False)
            while pending(page):
                if time.perf_counter() - t0 > 1800:
                    raise SystemExit("sync did not finish within 30 minutes")
                page.wait_for_timeout(250)
            seconds = time.perf_counter() - t0
            entries = outbox(page)
            rejected = [e for e in entries if e.get("state") == "rejected"]
            posts = [h for h in server.hits[before:] if h.method == "POST" and h.path.startswith("/inspections/")]
            phone.close()
        from tests.e2e.browser import record_rows

        rec = record_rows(app, pid)["records"][0]
        rows.append(
            (
                "slow 3G (400 ms, 400 kbit/s down, 20 KB/s up)",
                len(queued),
                len(queued) - photos,
                photos,
                round(sent_bytes / 1024),
                len(posts),
                len(rejected),
                round(seconds, 1),
            )
        )
        stored = (len(rec["answers"]), len(rec["findings"]), len(rec["photos"]), rec["result"])
        print(f"  synced in {seconds:.1f} s; stored answers/findings/photos/result: {stored}", flush=True)
        assert stored == (answers, findings, photos, "deadline"), stored
    finally:
        radio.close()
        server.stop()
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        _wipe(SYNC_DB)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10, help="open tasks in the pack (default 10)")
    parser.add_argument("--changes", type=int, default=50, help="queued changes to sync, photos included")
    parser.add_argument("--photos", type=int, default=10, help="of which photos (a multiple of 5)")
    parser.add_argument("--no-pack", action="store_true", help="skip the pack size")
    parser.add_argument("--no-sync", action="store_true", help="skip the sync time (needs Chromium)")
    args = parser.parse_args()
    print(c.machine_facts())
    if not args.no_pack:
        print(f"\nPack size for {args.tasks} tasks (bytes; target ≤ {TARGET_KB} KB compressed, photos excluded)")
        rows = pack_size(args.tasks)
        print(c.table(["part", "files", "raw", "gzip -6", "brotli"], rows))
        gz, br = rows[-1][3], rows[-1][4]
        verdict = "within" if gz <= TARGET_KB * 1024 else "OVER"
        extra = f", brotli {br / 1024:.0f} KB" if isinstance(br, int) else ""
        print(f"compressed total: gzip {gz / 1024:.0f} KB{extra}: {verdict} the {TARGET_KB} KB target")
        _wipe(PACK_DB)
    if not args.no_sync:
        print(f"\nSync of {args.changes} queued changes with {args.photos} photos")
        rows = sync_time(args.changes, args.photos)
        print(
            c.table(
                ["network", "changes", "of which forms", "photos", "photo KB", "POSTs", "refused", "seconds"],
                rows,
            )
        )


if __name__ == "__main__":
    main()
