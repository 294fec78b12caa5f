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
(issues 3 and 11): the engine is no slower than the pool read, and eligibility + engine for 1 000 000 units
and 2 000 inspectors stay under 10 s.

    .venv/bin/python benchmarks/draw.py                                  # 10k, 100k, 1M on both databases
    .venv/bin/python benchmarks/draw.py --sizes 10000,100000 --no-pg --runs 5
    .venv/bin/python benchmarks/draw.py --no-ceremony
    .venv/bin/python benchmarks/draw.py --engine-only --sizes 1000000   # the engine alone, no database

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
    """The unit query of plans.eligibility() on its own, rows fetched: its columns (enum columns read as
    strings), its WHERE (area, filter and the item's object types, ``plans.unit_conditions``) and its ORDER BY
    (SQLite's "+" that avoids the index walk). The earlier column measured another query (no object-type
    filter, enum conversion per row, the slow index order) and so compared the engine with the wrong figure."""
    from sqlalchemy import String, text, type_coerce

    from webapp.draw import plans
    from webapp.registry.models import Unit

    cols = (
        Unit.id,
        Unit.public_id,
        Unit.name,
        type_coerce(Unit.unit_class, String),
        Unit.crowded,
        type_coerce(Unit.risk_level, String),
        type_coerce(Unit.credit_level, String),
        Unit.complaint_count,
        Unit.serious_violation,
        type_coerce(Unit.status, String),
    )
    q = select(*cols).where(*plans.unit_conditions(plan, types=plans.target_types(plan)))
    if db.session.get_bind().dialect.name == "sqlite":
        q = q.order_by(text("+unit.public_id"))
    else:
        q = q.order_by(Unit.public_id)
    return len(db.session.execute(q).all())


def time_engine(pool: dict) -> dict:
    """What services.commit/perform run of the engine, timed: validate (canonical /2 form when the pool has
    it), feasibility, pool_hash, seed, draw."""
    from webapp.draw import engine

    out: dict = {}
    t0 = time.perf_counter()
    engine.validate_pool(pool, engine.SPEC if "excluded" in pool else None)
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
    out["pool_units"] = len(pool["units"])
    out["tasks"] = len(result["result"])
    return out


def synthetic_pool(units: int, inspectors: int, seed: int = 1) -> dict:
    """A canonical /2 pool of the benchmark's shape without a database: 5 strata, 2 000 fire inspectors
    (half can lead, 5 % away five days, 1 % with a conflict), 22 working days, about 17 tasks per 1 000 units."""
    import random

    r = random.Random(seed)
    days = [f"2027-01-{d:02d}" for d in range(4, 30) if d % 7 not in (2, 3)]
    strata = ["general", "general", "key", "key_crowded", "small"]
    pool_units = [
        {"id": f"U{n:07d}", "stratum": r.choice(strata), "weight": r.choice([50, 100, 100, 150, 200])}
        for n in range(units)
    ]
    people = [
        {
            "id": f"I{n:05d}",
            "dept": "fire",
            "can_lead": r.random() < 0.5,
            "weight": r.choice([100, 100, 150, 50]),
            "conflicts": [f"U{r.randrange(units):07d}"] if r.random() < 0.01 else [],
            "unavailable": sorted(r.sample(days, 5)) if r.random() < 0.05 else [],
        }
        for n in range(inspectors)
    ]
    per = units * 17 // 1000
    return {
        "units": pool_units,
        "inspectors": people,
        "quotas": {
            "general": per * 6 // 17,
            "key": per * 4 // 17,
            "key_crowded": per * 4 // 17,
            "small": per * 3 // 17,
        },
        "slots": [{"dept": "fire", "role": "lead"}, {"dept": "fire", "role": "assist"}],
        "working_days": days,
        "excluded": [],
    }


def engine_only(args) -> None:
    """--engine-only: the engine on synthetic pools (no database), median of --runs."""
    rows = []
    for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
        pool = synthetic_pool(n, args.inspectors)
        runs = [time_engine(pool) for _ in range(max(1, args.runs))]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        ms = {k: v * 1000 for k, v in med.items() if isinstance(v, float)}
        rows.append(
            (
                n,
                int(med["tasks"]),
                round(ms["validate"]),
                round(ms["feasibility"]),
                round(ms["pool_hash"]),
                round(ms["draw"]),
                round(ms["engine"]),
            )
        )
        print(f"  {n} units: engine {ms['engine']:.0f} ms ({int(med['tasks'])} tasks)", flush=True)
    print(c.table(["units", "tasks", "validate ms", "feasibility ms", "pool_hash ms", "draw ms", "engine ms"], rows))


def one_run(plan, period: str) -> dict:
    from webapp.draw import plans

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
    out.update(time_engine(pool))
    out["total"] = out["eligibility"] + out["engine"]
    out["rows"] = n_rows
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
    parser.add_argument("--engine-only", action="store_true", help="the engine alone on synthetic pools (no database)")
    args = parser.parse_args()
    if args.engine_only:
        print(c.machine_facts())
        engine_only(args)
        return
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
