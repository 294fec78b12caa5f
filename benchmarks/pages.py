"""Inspector pages: bytes on the wire (issue 4) and server time at 1 000 000 units / 100 000 past inspections.

Part 1, page weight: a demo database (``webapp.demo.load_demo``, SQLite under /tmp), CSRF on, logged in as
the demo inspector ``inspector`` with a task of their own and an inspection started through
``webapp.inspections.services.start``. Fetches 我的任务 (/me), the task page and the record page, plus every
stylesheet and script they reference (<link href>, <script src>), and reports raw / gzip -6 / brotli (if the
``brotli`` module is installed) bytes of the HTML and of the assets; "first load" is HTML plus every asset
(cold cache). Then the three HTMX swaps of the record page (checklist answer autosave, finding add, result
autosave) are posted with ``HX-Request: true`` and the ``X-CSRFToken`` header the page's ``hx-headers`` carries,
and the response body is measured the same way (response headers, ~300 bytes, are not counted).

Part 2, server time: ``_common.populate`` (N units, 40 inspectors), then bulk inserts of ``--past`` submitted
tasks with their two assignments (lead + assist, inspectors drawn uniformly from the 40) and one submitted
inspection each, planned over the last four years on random units; then one inspector (login ``bench-insp``)
gets ~30 current tasks (overdue, today, this week, later) and one inspection in progress. Times /me, a task
page, the in-progress record page, a past (submitted) record page and the answer autosave through the Flask
test client: median and p95 over ``--runs`` runs after one warm-up (in-process WSGI, no network).

    .venv/bin/python benchmarks/pages.py                          # weight + 100 000 units, SQLite and PG
    .venv/bin/python benchmarks/pages.py --units 1000000
    .venv/bin/python benchmarks/pages.py --no-weight --no-pg --units 1000000
    .venv/bin/python benchmarks/pages.py --no-time                # page weight only

Wipes /tmp/suijian-bench-pages-demo.db, the ``--sqlite`` file and the ``--pg`` database (default suijian_pages).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import random
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import insert, select

from webapp import create_app
from webapp.extensions import db

try:
    import brotli  # type: ignore[import-not-found]
except ImportError:  # not installed: brotli columns show "-"
    brotli = None

DEMO_DB = "/tmp/suijian-bench-pages-demo.db"  # noqa: S108
DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/suijian_pages")
HX = {"HX-Request": "true"}


# ------------------------------------------------------------------------------------------------ sizes


def sizes(data: bytes) -> tuple[int, int, int | str]:
    br = len(brotli.compress(data, quality=11)) if brotli else "-"
    return len(data), len(gzip.compress(data, compresslevel=6)), br


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y if isinstance(x, int) and isinstance(y, int) else "-" for x, y in zip(a, b, strict=True))


ASSET_RE = re.compile(r'<link[^>]+href="([^"]+)"|<script[^>]+src="([^"]+)"')


def assets_of(html: str) -> list[str]:
    return [a or b for a, b in ASSET_RE.findall(html) if (a or b).startswith("/static/")]


def make_task(org_id: int, unit_id: int, version_id: int, inspector_ids: list[int], planned: dt.date, status):
    from webapp.tasks.models import Task, TaskAssignment, TaskKind

    task = Task(
        org_id=org_id,
        unit_id=unit_id,
        item_version_id=version_id,
        kind=TaskKind.COMPLAINT,
        planned_date=planned,
        status=status,
        origin_note="举报投诉",
    )
    db.session.add(task)
    db.session.flush()
    for slot, iid in enumerate(inspector_ids):
        role = "lead" if slot == 0 else "assist"
        db.session.add(TaskAssignment(task_id=task.id, slot=slot, dept="fire", role=role, inspector_id=iid))
    db.session.flush()
    return task


def fire_duty_version() -> int:
    from webapp.catalog.models import Item, ItemVersion

    item = db.session.execute(select(Item).where(Item.code == "fire-duty")).scalars().first()
    return db.session.execute(
        select(ItemVersion.id).where(ItemVersion.item_id == item.id).order_by(ItemVersion.version.desc()).limit(1)
    ).scalar_one()


def weight() -> list[tuple]:
    from webapp.auth.models import User
    from webapp.demo import DEMO_PASSWORD, load_demo
    from webapp.inspections import services
    from webapp.registry.models import Inspector, Unit
    from webapp.tasks.models import TaskStatus

    for p in (DEMO_DB, DEMO_DB + "-wal", DEMO_DB + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": c.sqlite_url(DEMO_DB),
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "IMPORT_BACKGROUND": False,
        }
    )
    c.reset_schema(app)
    with app.app_context():
        load_demo()
        user = db.session.execute(select(User).where(User.username == "inspector")).scalar_one()
        me = db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one()
        partner = db.session.execute(
            select(Inspector).where(Inspector.org_id == me.org_id, Inspector.id != me.id).limit(1)
        ).scalar_one()
        unit = db.session.execute(select(Unit).where(Unit.org_id == me.org_id).limit(1)).scalar_one()
        task = make_task(
            me.org_id, unit.id, fire_duty_version(), [me.id, partner.id], dt.date.today(), TaskStatus.PLANNED
        )
        db.session.commit()
        tid = task.public_id
        ctx = services.task_context(user, tid)
        services.start(user, ctx, str(uuid.uuid4()), lat="34.73", lon="112.79", accuracy="10")
        db.session.commit()
        points = services.points(services.task_context(user, tid))
        point_id = points[0].id

    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    resp = client.post("/login", data={"username": "inspector", "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code

    rows: list[tuple] = []
    pages = [
        ("我的任务 /me", "/me"),
        ("task page", f"/inspections/tasks/{tid}"),
        ("record page", f"/inspections/tasks/{tid}/record"),
    ]
    hx_token = None
    seen: set[str] = set()
    for title, path in pages:
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        html = r.get_data()
        text = html.decode()
        hx_token = hx_token or re.search(r'"X-CSRFToken": "([^"]+)"', text).group(1)
        h = sizes(html)
        a_total: tuple = (0, 0, 0 if brotli else "-")
        new_total: tuple = (0, 0, 0 if brotli else "-")
        names = []
        for url in assets_of(text):
            ar = client.get(url)
            assert ar.status_code == 200, (url, ar.status_code)
            s = sizes(ar.get_data())
            ar.close()
            a_total = _add(a_total, s)
            if url not in seen:
                new_total = _add(new_total, s)
                seen.add(url)
            names.append(url.split("/")[-1].split("?")[0])
        first = _add(h, a_total)
        rows.append((title, *h, *a_total, *first, *_add(h, new_total), ", ".join(names)))
        print(f"  {title}: html {h}, assets {a_total}, first load {first}", flush=True)

    headers = {**HX, "X-CSRFToken": hx_token}
    base = f"/inspections/tasks/{tid}"
    swaps = [
        ("swap: checklist answer save", f"{base}/answers/{point_id}", {"answer": "fails", "note": "灭火器压力不足"}),
        (
            "swap: finding add",
            f"{base}/findings",
            {
                "text": "部分灭火器压力不足，指针位于红区",
                "legal_basis": "《中华人民共和国消防法》第十六条",
                "point_id": str(point_id),
            },
        ),
        ("swap: result save", f"{base}/result", {"result": "deadline", "category": "ordered_rectify", "remarks": ""}),
    ]
    for title, path, data in swaps:
        r = client.post(path, data=data, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        h = sizes(r.get_data())
        rows.append((title, *h, 0, 0, 0 if brotli else "-", *h, *h, ""))
        print(f"  {title}: {h}", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


# ------------------------------------------------------------------------------------------- server time


def populate_history(app, past: int, current: int, seed: int = 4) -> dict:
    """``past`` submitted tasks + inspections over the last four years, and ``current`` tasks for bench-insp."""
    from webapp.auth.models import Organisation, Role, User
    from webapp.db import utcnow
    from webapp.inspections.models import CheckResult, Inspection, InspectionStatus, PublishedCategory
    from webapp.registry.models import Inspector, Unit
    from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with app.app_context():
        org_id = db.session.execute(select(Organisation.id).where(Organisation.code == "bench-1")).scalar_one()
        version_id = fire_duty_version()
        lo, hi = db.session.execute(select(db.func.min(Unit.id), db.func.max(Unit.id))).one()
        insp_ids = list(db.session.execute(select(Inspector.id).order_by(Inspector.id)).scalars())
        now = utcnow()
        today = dt.date.today()
        conn = db.session.connection()
        for start in range(0, past, c.BATCH):
            n = min(c.BATCH, past - start)
            tasks = []
            for i in range(start, start + n):
                tasks.append(
                    {
                        "public_id": f"T-bench{i:08d}",
                        "org_id": org_id,
                        "unit_id": rng.randint(lo, hi),
                        "item_version_id": version_id,
                        "kind": TaskKind.ROUTINE,
                        "planned_date": today - dt.timedelta(days=rng.randint(30, 1460)),
                        "status": TaskStatus.SUBMITTED,
                        "created_at": now,
                    }
                )
            conn.execute(insert(Task.__table__), tasks)
            ids = list(
                db.session.execute(
                    select(Task.id).where(Task.public_id.in_([t["public_id"] for t in tasks])).order_by(Task.id)
                ).scalars()
            )
            assigns, insps = [], []
            for tid in ids:
                pair = rng.sample(insp_ids, 2)
                for slot, iid in enumerate(pair):
                    assigns.append(
                        {
                            "task_id": tid,
                            "slot": slot,
                            "dept": "fire",
                            "role": "lead" if slot == 0 else "assist",
                            "inspector_id": iid,
                            "active": True,
                            "assigned_at": now,
                        }
                    )
                insps.append(
                    {
                        "public_id": f"bench-insp-{tid:09d}",
                        "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "task_id": tid,
                        "org_id": org_id,
                        "status": InspectionStatus.SUBMITTED,
                        "started_at": now,
                        "checkin_at": now,
                        "partner_inspector_id": pair[1],
                        "result": CheckResult.NO_PROBLEM,
                        "category": PublishedCategory.NO_PROBLEM,
                        "content_hash": "0" * 64,
                        "content": {},
                        "submitted_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(TaskAssignment.__table__), assigns)
            conn.execute(insert(Inspection.__table__), insps)
            db.session.commit()
            conn = db.session.connection()
            if (start + n) % 50_000 == 0:
                print(f"  … {start + n} past inspections ({time.perf_counter() - t0:.0f} s)", flush=True)

        me_id, others = insp_ids[0], insp_ids[1:]
        user = User(username="bench-insp", display_name="基准检查员", role=Role.INSPECTOR, org_id=org_id)
        user.set_password(c.BENCH_PASSWORD)
        db.session.add(user)
        db.session.flush()
        db.session.get(Inspector, me_id).user_id = user.id
        mine_past = db.session.execute(
            select(db.func.count()).select_from(TaskAssignment).where(TaskAssignment.inspector_id == me_id)
        ).scalar_one()
        first = today.replace(day=1)
        current_ids = []
        for k in range(current):
            planned = first + dt.timedelta(days=(k * 45) // max(current, 1))  # spread over ~6 weeks
            pair = [me_id, rng.choice(others)] if k % 2 == 0 else [rng.choice(others), me_id]
            t = make_task(org_id, rng.randint(lo, hi), version_id, pair, planned, TaskStatus.PLANNED)
            current_ids.append(t.public_id)
        past_mine = db.session.execute(
            select(Task.public_id)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.inspector_id == me_id, Task.status == TaskStatus.SUBMITTED)
            .limit(1)
        ).scalar_one()
        db.session.commit()
    seconds = time.perf_counter() - t0
    print(f"  populated {past} past inspections + {current} current tasks in {seconds:.1f} s", flush=True)
    return {"current": current_ids, "past_task": past_mine, "mine_past": mine_past, "seconds": seconds}


def lookup_history(app) -> dict:
    """What :func:`populate_history` returned, read back from a database it populated (``--reuse``)."""
    from webapp.auth.models import User
    from webapp.registry.models import Inspector
    from webapp.tasks.models import Task, TaskAssignment, TaskStatus

    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == "bench-insp")).scalar_one()
        me_id = db.session.execute(select(Inspector.id).where(Inspector.user_id == user_id)).scalar_one()
        mine = (
            select(Task.public_id)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.inspector_id == me_id)
        )
        current = list(db.session.execute(mine.where(~Task.public_id.like("T-bench%")).order_by(Task.id)).scalars())
        past = db.session.execute(mine.where(Task.status == TaskStatus.SUBMITTED).limit(1)).scalar_one()
        n = db.session.execute(
            select(db.func.count()).select_from(TaskAssignment).where(TaskAssignment.inspector_id == me_id)
        ).scalar_one()
    return {"current": current, "past_task": past, "mine_past": n - len(current)}


def server_time(url: str, label: str, args) -> list[tuple]:
    app = c.make_app(url)
    if not args.reuse:
        c.reset_schema(app)
        print(f"{label}: populating {args.units} units …", flush=True)
        c.populate(app, args.units)
    hist = populate_history(app, args.past, args.current) if not args.reuse else lookup_history(app)
    if not args.reuse:
        c.analyse(app)
    size = c.db_size(app)
    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-insp", "password": c.BENCH_PASSWORD})
    assert resp.status_code == 302, f"login failed: {resp.status_code}"
    planned, started = hist["current"][0], hist["current"][1]
    r = client.post(f"/inspections/tasks/{started}/start", data={"client_uuid": str(uuid.uuid4())})
    assert r.status_code == 303, r.status_code
    with app.app_context():
        from webapp.catalog.models import ChecklistPoint

        point = db.session.execute(
            select(ChecklistPoint.id).where(ChecklistPoint.item_version_id == fire_duty_version()).limit(1)
        ).scalar_one()
    vals = iter(["complies", "fails"] * (args.runs + 5))
    cases = [
        ("我的任务 /me", lambda: client.get("/me")),
        ("task page (planned)", lambda: client.get(f"/inspections/tasks/{planned}")),
        ("record page (draft)", lambda: client.get(f"/inspections/tasks/{started}/record")),
        ("record page (past, submitted)", lambda: client.get(f"/inspections/tasks/{hist['past_task']}/record")),
        (
            "HTMX answer save",
            lambda: client.post(
                f"/inspections/tasks/{started}/answers/{point}", data={"answer": next(vals)}, headers=HX
            ),
        ),
    ]
    rows = []
    for title, fn in cases:
        first = fn()
        assert first.status_code == 200, (title, first.status_code)
        med, p95 = c.stats(c.timed(fn, args.runs))
        rows.append((label, args.units, args.past, title, med, p95))
        print(f"  {title:32s} {med:7.1f} / {p95:7.1f} ms", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    SIZES.append((label, args.units, args.past, hist["mine_past"], size))
    return rows


SIZES: list[tuple] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--past", type=int, default=100_000, help="past submitted inspections")
    parser.add_argument("--current", type=int, default=30, help="current tasks of the measured inspector")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sqlite", default="/tmp/suijian-bench-pages.db")  # noqa: S108
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-weight", action="store_true")
    parser.add_argument("--no-time", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="use the populated databases of a previous run")
    args = parser.parse_args()
    print(c.machine_facts())
    t0 = time.perf_counter()
    if not args.no_weight:
        print("page weight (demo data, SQLite) …", flush=True)
        rows = weight()
        print()
        print(
            c.table(
                [
                    "page / swap",
                    "HTML raw B",
                    "HTML gzip B",
                    "HTML br B",
                    "assets raw B",
                    "assets gzip B",
                    "assets br B",
                    "first load raw B",
                    "first load gzip B",
                    "first load br B",
                    "incremental raw B (assets of earlier pages cached)",
                    "incremental gzip B",
                    "incremental br B",
                    "assets",
                ],
                rows,
            )
        )
        print()
    if not args.no_time:
        trows: list[tuple] = []
        if not args.no_sqlite:
            for p in (args.sqlite, args.sqlite + "-wal", args.sqlite + "-shm"):
                if os.path.exists(p) and not args.reuse:
                    os.remove(p)
            trows += server_time(c.sqlite_url(args.sqlite), "SQLite", args)
        if not args.no_pg and c.ensure_pg_database(args.pg):
            trows += server_time(args.pg, "PostgreSQL", args)
        print()
        print(c.table(["database", "units", "past inspections", "request", "median ms", "p95 ms"], trows))
        print()
        print(c.table(["database", "units", "past inspections", "bench-insp's past assignments", "size"], SIZES))
    print(f"\n{c.machine_facts()}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
