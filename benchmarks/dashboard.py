"""Supervisor dashboard: server time with 1 000 000 units and 1 000 000 inspections on PostgreSQL (issue 5).

Population: ``_common.populate`` (N units in one 大队 ``bench-1`` under a 支队, ``--inspectors`` inspectors with a
login each), then PostgreSQL ``INSERT … SELECT generate_series`` (seeded ``setseed``) for:

* ``--inspections`` submitted tasks on random units, planned over the last ``--years`` years (so about a third
  fall in the current year), inserted in date order as monthly draws and submissions would write them (a
  table in random date order makes every range read a random read), two active assignments each and one
  submitted inspection: check-in near the unit
  (2 % more than 1 km away), 20–90 minutes on site (1 % under 10), submitted by the lead's login, published;
  70 % 未发现问题, 20 % 责令限期改正, 10 % 责令立即改正, each with findings on checklist points, a
  rectification order (70 % rectified, 10 % not rectified with a penalty / referral / 待后续处理 follow-up, the
  rest pending), one photo for 90 % of inspections;
* ``--month-tasks`` open tasks this month (planned or in progress) with two assignments; 5 % of inspectors on leave;
* ``--audit`` audit events (answer autosaves, plus freezes and deletions: the hash chain is not maintained, the
  database is throwaway).

The database gets ``random_page_cost = 1.1`` (solid-state disks; docs/deployment.md). Then VACUUM ANALYZE, log in
as the supervisor ``bench-sup`` (a 支队-level account sees every 大队) and time ``GET /dashboard/`` through the Flask
test client (in-process WSGI, no network): median and p95 over ``--runs`` runs after one warm-up, i.e. as every
request after the first is served: the month's progress and the year's figures from the per-scope cache
(webapp/dashboard/cache.py), the rest live. The first request after a restart (which computes the month and starts
the year's figures in the background) and the time each cached part takes to compute are printed too. Every SQL
statement of one request is timed too and the slowest are printed, so a regression names its query.

    .venv/bin/python benchmarks/dashboard.py                       # 1 000 000 units, 1 000 000 inspections
    .venv/bin/python benchmarks/dashboard.py --units 100000 --inspections 100000
    .venv/bin/python benchmarks/dashboard.py --reuse               # time again on the populated database

Wipes the ``--pg`` database (default suijian_dashboard). PostgreSQL only: the target is stated for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import event, select, text

from webapp.extensions import db

DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/suijian_dashboard")


def _sql(conn, statement: str, **params) -> None:
    t0 = time.perf_counter()
    result = conn.execute(text(statement), params)
    first = statement.strip().splitlines()[0][:70]
    print(f"  {result.rowcount:>9} rows  {time.perf_counter() - t0:6.1f} s  {first}", flush=True)


def populate_work(app, args) -> None:
    """Tasks, assignments, inspections, findings, orders, follow-ups, photos and audit events, in SQL."""
    from webapp.auth.models import Organisation, Role, User
    from webapp.catalog.models import ChecklistPoint

    with app.app_context():
        org_id = db.session.execute(select(Organisation.id).where(Organisation.code == "bench-1")).scalar_one()
        zhidui = db.session.execute(select(Organisation.id).where(Organisation.code == "bench-zhidui")).scalar_one()
        sup = db.session.execute(select(User).where(User.username == "bench-sup")).scalar_one()
        sup.org_id = zhidui  # a 支队 supervisor: scope is the 支队 and its 大队
        db.session.commit()
        version_id = _fire_duty_version()
        points = list(
            db.session.execute(
                select(ChecklistPoint.id)
                .where(ChecklistPoint.item_version_id == version_id)
                .order_by(ChecklistPoint.id)
            ).scalars()
        )
        p = {
            "org": org_id,
            "ver": version_id,
            "n": args.inspections,
            "days": 365 * args.years,
            "month_tasks": args.month_tasks,
            "audit": args.audit,
            "p0": points[0],
            "np": len(points),
            "role": Role.INSPECTOR.value,
            "pw": sup.password_hash,
        }
    t0 = time.perf_counter()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.2026)"))
        _sql(
            conn,
            """INSERT INTO "user" (username, display_name, password_hash, role, org_id, active, auth_version,
                created_at)
            SELECT 'bench-i' || i.id, i.name, :pw, :role, i.org_id, true, 1, now() FROM inspector i""",
            **p,
        )
        _sql(conn, """UPDATE inspector i SET user_id = u.id FROM "user" u WHERE u.username = 'bench-i' || i.id""")
        conn.execute(
            text("CREATE TEMP TABLE ins AS SELECT row_number() OVER (ORDER BY id) AS k, id, user_id FROM inspector")
        )
        conn.execute(text("CREATE TEMP TABLE bounds AS SELECT min(id) AS lo, max(id) AS hi FROM unit"))
        ni = conn.execute(text("SELECT count(*) FROM ins")).scalar_one()
        p["ni"] = ni
        # past (submitted) tasks and this month's open tasks
        _sql(
            conn,
            """INSERT INTO task (public_id, org_id, unit_id, item_version_id, kind, planned_date, status, created_at)
            SELECT 'T-b' || g, :org, b.lo + floor(random() * (b.hi - b.lo + 1))::int, :ver, 'routine',
                   d.day, 'submitted', now()
            FROM generate_series(1, :n) g, bounds b,
                 LATERAL (SELECT current_date - 1 - floor(random() * :days)::int + 0 * g AS day) d
            ORDER BY d.day""",
            **p,
        )
        _sql(
            conn,
            """INSERT INTO task (public_id, org_id, unit_id, item_version_id, kind, planned_date, status, created_at)
            SELECT 'T-m' || g, :org, b.lo + floor(random() * (b.hi - b.lo + 1))::int, :ver, 'routine',
                   date_trunc('month', current_date)::date + floor(random() * 28)::int,
                   CASE WHEN random() < 0.1 THEN 'in_progress' ELSE 'planned' END, now()
            FROM generate_series(1, :month_tasks) g, bounds b
            ORDER BY 6""",
            **p,
        )
        _sql(
            conn,
            """INSERT INTO task_assignment (task_id, slot, dept, role, inspector_id, active, assigned_at)
            SELECT t.id, s.slot, 'fire', CASE s.slot WHEN 0 THEN 'lead' ELSE 'assist' END, ins.id, true, now()
            FROM task t CROSS JOIN (VALUES (0), (1)) AS s(slot)
            JOIN ins ON ins.k = 1 + ((t.id * 7 + s.slot * 13) % :ni)""",
            **p,
        )
        # one submitted inspection per past task
        _sql(
            conn,
            """INSERT INTO inspection (public_id, client_uuid, task_id, org_id, status, started_at, checkin_at,
                checkin_lat, checkin_lon, partner_inspector_id, partner_presence, result, category, content_hash,
                content, submitted_at, submitted_by_id, created_at, updated_at, publish_due_on, published_at,
                published_by_id)
            SELECT 'bI' || t.id, md5('u' || t.id), t.id, t.org_id, 'submitted', x.started, x.started,
                   u.latitude + CASE WHEN x.r2 < 0.02 THEN 0.02 ELSE 0.001 * x.r2 END, u.longitude,
                   a1.inspector_id, 'own_phone', x.result,
                   CASE x.result WHEN 'no_problem' THEN 'no_problem' ELSE 'ordered_rectify' END,
                   repeat('0', 64), '{}', x.started + x.minutes * interval '1 minute', lead.user_id, now(), now(),
                   t.planned_date + 28, x.started + x.minutes * interval '1 minute', lead.user_id
            FROM task t
            JOIN unit u ON u.id = t.unit_id
            JOIN task_assignment a0 ON a0.task_id = t.id AND a0.slot = 0
            JOIN task_assignment a1 ON a1.task_id = t.id AND a1.slot = 1
            JOIN ins lead ON lead.id = a0.inspector_id
            CROSS JOIN LATERAL (
                SELECT (t.planned_date + time '01:00' + random() * interval '8 hours') AS started,
                       CASE WHEN random() < 0.01 THEN 5 ELSE 20 + floor(random() * 70)::int END AS minutes,
                       random() AS r2,
                       CASE WHEN random() < 0.7 THEN 'no_problem'
                            WHEN random() < 0.67 THEN 'deadline' ELSE 'immediate' END AS result
                OFFSET 0
            ) x
            WHERE t.status = 'submitted'
            ORDER BY x.started""",
        )
        _sql(
            conn,
            """INSERT INTO finding (public_id, inspection_id, point_id, seq, text, created_at)
            SELECT 'bF' || i.id || '-' || s, i.id, CASE WHEN random() < 0.1 THEN NULL
                   ELSE :p0 + floor(random() * random() * :np)::int END, s, '消防设施未保持完好有效', now()
            FROM inspection i, generate_series(1, 3) s
            WHERE i.result <> 'no_problem' AND (s = 1 OR random() < 0.4)""",
            **p,
        )
        _sql(
            conn,
            """INSERT INTO rectification_order (token, org_id, inspection_id, task_id, unit_id, kind, number, year,
                seq, problems, issued_at, issued_on, deadline_days, deadline, status, status_at)
            SELECT 'bO' || i.id, i.org_id, i.id, i.task_id, t.unit_id, i.result, '偃消字〔b〕' || i.id,
                   extract(year FROM i.submitted_at)::int, i.id, '见检查记录', i.submitted_at, t.planned_date,
                   x.days, t.planned_date + x.days,
                   CASE WHEN x.r < 0.7 THEN 'rectified' WHEN x.r < 0.8 THEN 'not_rectified' ELSE 'pending' END,
                   i.submitted_at
            FROM inspection i JOIN task t ON t.id = i.task_id
            CROSS JOIN LATERAL (SELECT random() AS r, CASE i.result WHEN 'immediate' THEN 0 ELSE 15 END AS days
                                OFFSET 0) x
            WHERE i.result <> 'no_problem'""",
        )
        _sql(
            conn,
            """INSERT INTO order_follow_up (order_id, kind, decision_number, decision_date, note, created_at,
                publish_due_on, published_at)
            SELECT o.id, x.kind, CASE x.kind WHEN 'penalty' THEN '偃消行罚决字〔b〕' || o.id END,
                   CASE x.kind WHEN 'penalty' THEN o.deadline + 10 END, '逾期未改正', now(),
                   CASE x.kind WHEN 'penalty' THEN o.deadline + 20 END,
                   CASE x.kind WHEN 'penalty' THEN now() END
            FROM rectification_order o
            CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.5 THEN 'penalty' WHEN random() < 0.4 THEN 'referral'
                                ELSE 'pending' END AS kind OFFSET 0) x
            WHERE o.status = 'not_rectified'""",
        )
        _sql(
            conn,
            """INSERT INTO photo (public_id, inspection_id, sha256, content_type, width, height, size_bytes,
                uploaded_at)
            SELECT 'bP' || i.id, i.id, md5(i.id::text) || md5(i.id::text), 'image/jpeg', 1600, 1200, 150000,
                   i.submitted_at
            FROM inspection i WHERE random() < 0.9""",
        )
        _sql(
            conn,
            """INSERT INTO inspector_unavailability (inspector_id, start_date, end_date, reason, cancelled,
                created_at)
            SELECT id, current_date - 3, current_date + 10, '年休假', false, now() FROM ins WHERE k % 20 = 0""",
        )
        _sql(
            conn,
            """INSERT INTO audit_event (at, actor_id, actor_name, action, subject_type, subject_id, org_id, data,
                prev_hash, hash)
            SELECT now() - random() * interval '700 days', NULL, '基准',
                   CASE WHEN g % 1000 = 0 THEN 'inspector.frozen' WHEN g % 1000 = 1 THEN 'inspection.finding_delete'
                        ELSE 'inspection.answer' END,
                   'inspection', g::text, :org, '{}', '', 'bench-' || g
            FROM generate_series(1, :audit) g""",
            **p,
        )
    print(f"  populated the work in {time.perf_counter() - t0:.0f} s", flush=True)


def _fire_duty_version() -> int:
    from webapp.catalog.models import Item, ItemVersion

    item = db.session.execute(select(Item).where(Item.code == "fire-duty")).scalars().first()
    return db.session.execute(
        select(ItemVersion.id).where(ItemVersion.item_id == item.id).order_by(ItemVersion.version.desc()).limit(1)
    ).scalar_one()


def counts(app) -> dict[str, int]:
    tables = ("unit", "inspector", "task", "task_assignment", "inspection", "finding", "rectification_order")
    with app.app_context(), db.engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
        out["inspection this year"] = conn.execute(
            text("SELECT count(*) FROM inspection WHERE submitted_at >= date_trunc('year', now())")
        ).scalar_one()
        out["photo"] = conn.execute(text("SELECT count(*) FROM photo")).scalar_one()
        out["audit_event"] = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    return out


def slowest_statements(app, fn, top: int = 8) -> list[tuple[float, str]]:
    """Run ``fn`` once, timing every SQL statement it makes; the ``top`` slowest, in ms."""
    timings: list[tuple[float, str]] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        t0 = conn.info["t0"].pop()
        timings.append(((time.perf_counter() - t0) * 1000, " ".join(statement.split())[:160]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    total = sum(t for t, _ in timings)
    print(f"  {len(timings)} statements, {total:.0f} ms in the database", flush=True)
    return sorted(timings, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--inspections", type=int, default=1_000_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--month-tasks", type=int, default=3_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--reuse", action="store_true", help="time again on the database of a previous run")
    parser.add_argument("--populate-only", action="store_true")
    args = parser.parse_args()
    if not c.ensure_pg_database(args.pg):
        return
    app = c.make_app(args.pg)
    with app.app_context(), db.engine.connect() as conn:  # the SSD setting docs/deployment.md recommends
        name = args.pg.rpartition("/")[2]
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
        )
        db.engine.dispose()  # new connections take the setting
    if not args.reuse:
        c.reset_schema(app)
        print(f"populating {args.units} units, {args.inspectors} inspectors …", flush=True)
        c.populate(app, args.units, inspectors=args.inspectors)
        populate_work(app, args)
        t0 = time.perf_counter()
        c.analyse(app)
        print(f"  VACUUM ANALYZE {time.perf_counter() - t0:.0f} s", flush=True)
    else:  # bring the schema up to date (new indexes) without repopulating
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
    n = counts(app)
    print("  " + ", ".join(f"{k} {v}" for k, v in n.items()))
    if args.populate_only:
        return
    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-sup", "password": c.BENCH_PASSWORD})
    assert resp.status_code == 302, f"login failed: {resp.status_code}"
    pages = [("监管看板 /dashboard/", "/dashboard/")]
    pages += [(title, url) for title, url in (("公示管理 /publication/", "/publication/"),) if _exists(app, url)]
    from webapp.dashboard import cache

    cache.clear()
    t0 = time.perf_counter()
    cold = client.get("/dashboard/")
    cold_ms = (time.perf_counter() - t0) * 1000
    assert cold.status_code == 200 and b"year-pending" in cold.data, cold.status_code
    while not any(key[0] == "year" for key in cache._entries):  # computed in the background
        time.sleep(0.1)
    year_ready_ms = (time.perf_counter() - t0) * 1000
    computed = {key[0]: e.seconds * 1000 for key, e in cache._entries.items()}
    print(f"  first request after a restart: {cold_ms:.0f} ms; the year part ready after {year_ready_ms:.0f} ms")
    rows = []
    for title, url in pages:
        first = client.get(url)
        assert first.status_code == 200, (url, first.status_code)
        for ms, sql in slowest_statements(app, lambda url=url: client.get(url)):
            print(f"    {ms:7.1f} ms  {sql}")
        med, p95 = c.stats(c.timed(lambda url=url: client.get(url), args.runs))
        rows.append(("PostgreSQL", n["unit"], n["inspection"], title, med, p95, f"{len(first.data) / 1024:.0f} KB"))
        print(f"  {title:28s} {med:7.1f} / {p95:7.1f} ms", flush=True)
    print()
    print(c.machine_facts())
    print(c.db_size(app) + " database")
    print(c.table(("database", "units", "inspections", "page", "median ms", "p95 ms", "HTML"), rows))
    print()
    print(
        c.table(
            ("dashboard, without the cache", "ms"),
            [
                ("first request after a restart (the month; the year part follows by htmx)", cold_ms),
                ("… the year part ready (computed in the background)", year_ready_ms),
                ("computing the month's progress (refreshed in the background after 60 s)", computed.get("month", 0.0)),
                ("computing the year's figures (refreshed in the background after 300 s)", computed.get("year", 0.0)),
            ],
        )
    )


def _exists(app, url: str) -> bool:
    return any(r.rule == url for r in app.url_map.iter_rules())


if __name__ == "__main__":
    main()
