"""Full draw (双随机) at scale: eligibility query + engine, for 10 000 / 100 000 / 1 000 000 units.

For each size and database: a freshly migrated database holding one 大队 with N realistic units
(``webapp.demo.iter_unit_rows``) and 2 000 inspectors (5 % on leave, 1 % with a declared conflict), a
routine plan for the item ``fire-duty`` with the default targets (crowded key units 100 %/year, key 80 %,
general and 九小场所 20 %), drawn for January of next year. It times:

- pool read   the eligibility unit query alone (same columns, WHERE and ORDER BY), rows fetched;
- eligibility ``webapp.draw.plans.eligibility()`` (pool read + exclusion rules + inspector pool);
- engine      ``validate_pool`` + ``feasibility`` + ``pool_hash`` + ``draw`` of ``webapp.draw.engine``
              (what ``services.commit``/``perform`` run besides the database work), also split up;
- total       eligibility + engine;
- ceremony    (optional) ``services.commit`` + one witness + ``services.perform`` + COMMIT, i.e. also
              storing the frozen pool and creating the tasks (what the supervisor waits for in the UI).

and prints medians over ``--runs`` runs, with total/pool-read and engine/pool-read ratios. Targets
(issue 3): the engine adds no more than the pool read, and 1 000 000 units draw in under 10 s.

    .venv/bin/python benchmarks/draw.py                                  # 10k, 100k, 1M on both databases
    .venv/bin/python benchmarks/draw.py --sizes 10000,100000 --no-pg --runs 5
    .venv/bin/python benchmarks/draw.py --no-ceremony

The SQLite files (/tmp/suijian-bench-draw-N.db) and the PostgreSQL database (default suijian_bench) are
wiped and repopulated for every size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import select

from webapp.extensions import db

ROWS: list[tuple] = []


def make_plan(org_id: int, year: int):
    from webapp.auth.models import Organisation
    from webapp.draw import services
    from webapp.draw.queries import get_item

    org = db.session.get(Organisation, org_id)
    plan = services.create_plan(None, org=org, item=get_item("fire-duty"), year=year)
    db.session.commit()
    return plan


def read_pool_rows(plan) -> int:
    """The unit query of plans.eligibility() on its own: same columns, filter and order; rows fetched."""
    from webapp.registry.models import Unit

    cols = (
        Unit.id,
        Unit.public_id,
        Unit.name,
        Unit.unit_class,
        Unit.crowded,
        Unit.risk_level,
        Unit.credit_level,
        Unit.complaint_count,
        Unit.serious_violation,
        Unit.status,
    )
    q = select(*cols).where(Unit.org_id.in_(plan.unit_org_ids)).order_by(Unit.public_id)
    return len(db.session.execute(q).all())


def one_run(plan, period: str) -> dict:
    from webapp.draw import engine, plans

    out: dict = {}
    db.session.rollback()
    t0 = time.perf_counter()
    n_rows = read_pool_rows(plan)
    out["pool_read"] = time.perf_counter() - t0
    db.session.rollback()

    t0 = time.perf_counter()
    elig = plans.eligibility(plan, period)
    out["eligibility"] = time.perf_counter() - t0
    pool = elig.pool()

    t0 = time.perf_counter()
    engine.validate_pool(pool)
    t1 = time.perf_counter()
    problems = engine.feasibility(pool)
    t2 = time.perf_counter()
    phash = engine.pool_hash(pool)
    t3 = time.perf_counter()
    seed = engine.compute_seed(phash, engine.new_secret().hex(), ["12345678901234567890"])
    result = engine.draw(pool, seed)
    t4 = time.perf_counter()
    assert not problems, problems[:3]
    assert not result["unfillable"], result["unfillable"][:3]
    out.update(validate=t1 - t0, feasibility=t2 - t1, pool_hash=t3 - t2, draw=t4 - t3, engine=t4 - t0)
    out["total"] = out["eligibility"] + out["engine"]
    out["rows"] = n_rows
    out["pool_units"] = len(pool["units"])
    out["tasks"] = len(result["result"])
    return out


def ceremony(plan, period: str) -> tuple[float, int]:
    """services.commit + witness + perform + COMMIT, timed; the draw is abandoned-free (fresh plan each run)."""
    from webapp.draw import services

    t0 = time.perf_counter()
    draw = services.commit(None, plan, period, today=dt.date(plan.year, 1, 1))
    services.add_witness(None, draw, "基准见证人", "群众代表", "12345678901234567890")
    draw = services.perform(None, draw)
    db.session.commit()
    seconds = time.perf_counter() - t0
    return seconds, len(draw.result or [])


def run_size(url: str, label: str, units: int, args) -> None:
    app = c.make_app(url)
    c.reset_schema(app)
    print(f"\n{label}, {units} units, {args.inspectors} inspectors: populating …", flush=True)
    info = c.populate(app, units, inspectors=args.inspectors)
    c.analyse(app)
    size = c.db_size(app)
    year = dt.date.today().year + 1
    period = f"{year}-01"
    with app.app_context():
        plan = make_plan(info["org_id"], year)
        big = units >= 1_000_000
        if not big:
            one_run(plan, period)  # warm-up (caches, planner); at 1 000 000 units the first run is as warm
        runs = [one_run(plan, period) for _ in range(max(1, args.runs_1m) if big else args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        cer, cer_tasks = None, None
        if args.ceremony:
            try:
                cer, cer_tasks = ceremony(make_plan(info["org_id"], year), period)
            except Exception:  # services.py is under active development: report, don't die
                db.session.rollback()
                print("  ceremony failed:\n" + traceback.format_exc(limit=3), flush=True)
        db.session.remove()
        db.engine.dispose()
    ms = {k: v * 1000 for k, v in med.items() if isinstance(v, float)}
    row = (
        label,
        units,
        int(med["pool_units"]),
        int(med["tasks"]),
        round(ms["pool_read"]),
        round(ms["eligibility"]),
        round(ms["engine"]),
        round(ms["validate"] + ms["feasibility"] + ms["pool_hash"]),
        round(ms["draw"]),
        round(ms["total"]),
        round(med["total"] / med["pool_read"], 2),
        round(med["engine"] / med["pool_read"], 2),
        "-" if cer is None else round(cer * 1000),
        size,
    )
    ROWS.append(row)
    print(
        f"  pool read {ms['pool_read']:.0f} ms, eligibility {ms['eligibility']:.0f} ms, engine {ms['engine']:.0f} ms "
        f"(validate {ms['validate']:.0f}, feasibility {ms['feasibility']:.0f}, hash {ms['pool_hash']:.0f}, "
        f"draw {ms['draw']:.0f}), total {ms['total']:.0f} ms, {int(med['tasks'])} tasks; "
        f"ceremony {'-' if cer is None else f'{cer * 1000:.0f} ms ({cer_tasks} tasks)'}; db {size}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated unit counts")
    parser.add_argument("--inspectors", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size below 1 000 000 (median)")
    parser.add_argument("--runs-1m", type=int, default=1, help="timed runs at 1 000 000 units and more (no warm-up)")
    parser.add_argument("--sqlite-dir", default="/tmp", help="where the SQLite files go (wiped)")  # noqa: S108
    parser.add_argument("--pg", default=c.DEFAULT_PG, help="PostgreSQL URL (database wiped)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-ceremony", dest="ceremony", action="store_false", help="skip services.commit/perform")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(c.machine_facts())
    t0 = time.perf_counter()
    pg_ok = not args.no_pg and c.ensure_pg_database(args.pg)
    for n in sizes:
        if not args.no_sqlite:
            path = os.path.join(args.sqlite_dir, f"suijian-bench-draw-{n}.db")
            for p in (path, path + "-wal", path + "-shm"):
                if os.path.exists(p):
                    os.remove(p)
            run_size(c.sqlite_url(path), "SQLite", n, args)
        if pg_ok:
            run_size(args.pg, "PostgreSQL", n, args)
    print()
    print(
        c.table(
            [
                "database",
                "units",
                "pool units",
                "tasks",
                "pool read ms",
                "eligibility ms",
                "engine ms",
                "(validate+feasibility+hash)",
                "(draw)",
                "total ms",
                "total / pool read",
                "engine / pool read",
                "ceremony ms",
                "db size",
            ],
            ROWS,
        )
    )
    print(f"\n{c.machine_facts()}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
