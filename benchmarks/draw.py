"""Full draw (双随机) at scale: eligibility query + engine, for 10 000 / 100 000 / 1 000 000 units.

For each size and database: a freshly migrated database holding one 大队 with N realistic units
(``webapp.demo.iter_unit_rows``) and 2 000 inspectors (5 % on leave, 1 % with a declared conflict), a
routine plan for the item ``fire-duty`` with the default targets (crowded key units 100 %/year, key 80 %,
general and 九小场所 20 %), drawn for January of next year. It times:

- pool read   the eligibility unit query alone (``plans.pool_query`` fetched by ``plans.fetch_plain``, exactly as
              ``eligibility()`` reads it), rows fetched;
- eligibility ``webapp.draw.plans.eligibility()`` (pool read + exclusion rules + inspector pool);
- engine      ``validate_pool`` + ``feasibility`` + ``pool_hash`` + ``draw`` of ``webapp.draw.engine``
              (what ``services.commit``/``perform`` run besides the database work), also split up;
- total       eligibility + engine;
- ceremony    (optional) on a fresh plan, each step committed as one request of the UI would: ``services.commit``
              (eligibility, frozen pool, commitments), one witness, ``services.perform`` (seed, draw, tasks and
              assignments created), ``services.publish``; per step and in all (``--profile PREFIX`` writes a
              cProfile of it; its times then include the profiler's overhead).

and prints medians over ``--runs`` runs, with total/pool-read and engine/pool-read ratios. Targets
(issues 3 and 11): the engine is no slower than the pool read, eligibility + engine for 1 000 000 units
and 2 000 inspectors stay under 10 s, and the whole ceremony under 30 s.

    .venv/bin/python benchmarks/draw.py                                  # 10k, 100k, 1M on both databases
    .venv/bin/python benchmarks/draw.py --sizes 10000,100000 --no-pg --runs 5
    .venv/bin/python benchmarks/draw.py --no-ceremony
    .venv/bin/python benchmarks/draw.py --engine-only --sizes 1000000   # the engine alone, no database
    .venv/bin/python benchmarks/draw.py --sizes 100000 --no-pg --profile /tmp/draw   # + /tmp/draw-sqlite-100000.prof

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
    """The unit query of plans.eligibility() on its own, rows fetched the same way (``plans.pool_query`` and
    ``plans.fetch_plain``: its columns, its WHERE with the item's object types, its ORDER BY, plain driver
    rows). An earlier column measured another query (no object-type filter, enum conversion per row, the slow
    index order) and so compared the engine with the wrong figure."""
    from webapp.draw import plans

    return len(plans.fetch_plain(plans.pool_query(plan, plans.target_types(plan))))


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


def ceremony(plan, period: str, profile: str | None = None) -> dict:
    """The whole ceremony on a fresh plan, each step timed and committed as the UI does (one request each):
    ``services.commit`` (eligibility, freezing the pool, the commitment), one witness, ``services.perform`` (seed,
    draw, tasks and assignments created), ``services.publish``. ``profile``: write a cProfile of it there."""
    from webapp.draw import services

    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    out: dict = {}
    t0 = time.perf_counter()
    draw = services.commit(None, plan, period, today=dt.date(plan.year, 1, 1))
    db.session.commit()
    t1 = time.perf_counter()
    services.add_witness(None, draw, "基准见证人", "群众代表", "12345678901234567890")
    db.session.commit()
    t2 = time.perf_counter()
    draw = services.perform(None, draw)
    db.session.commit()
    t3 = time.perf_counter()
    services.publish(None, draw)
    db.session.commit()
    t4 = time.perf_counter()
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    out.update(c_commit=t1 - t0, c_witness=t2 - t1, c_perform=t3 - t2, c_publish=t4 - t3, ceremony=t4 - t0)
    out["c_tasks"] = len(draw.result or [])
    return out


def known_year(year: int) -> None:
    """Commitment needs a known calendar year (issue 11): confirm ``year`` as the demo does if nobody entered it."""
    from webapp import calendar
    from webapp.admin.services import confirm_year

    if not calendar.year_known(year):
        confirm_year(None, year, "基准测试：节假日安排未公布")
        db.session.commit()


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
        known_year(year)
        plan = make_plan(info["org_id"], year)
        big = units >= 1_000_000
        if not big:
            one_run(plan, period)  # warm-up (caches, planner)
        else:  # at 1 000 000 units only the pool read, which would otherwise pay for the cold cache alone
            read_pool_rows(plan)
            db.session.rollback()
        runs = [one_run(plan, period) for _ in range(max(1, args.runs_1m) if big else args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        cer: dict = {}
        if args.ceremony:
            profile = f"{args.profile}-{label.lower()}-{units}.prof" if args.profile else None
            try:
                cer = ceremony(make_plan(info["org_id"], year), period, profile)
            except Exception:  # report, don't die
                db.session.rollback()
                print("  ceremony failed:\n" + traceback.format_exc(limit=3), flush=True)
        db.session.remove()
        db.engine.dispose()
    ms = {k: v * 1000 for k, v in med.items() if isinstance(v, float)}
    cms = {k: round(v * 1000) for k, v in cer.items() if isinstance(v, float)}
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
        *(cms.get(k, "-") for k in ("c_commit", "c_witness", "c_perform", "c_publish", "ceremony")),
        size,
    )
    ROWS.append(row)
    steps = (
        f"commit {cms['c_commit']}, witness {cms['c_witness']}, perform {cms['c_perform']}, "
        f"publish {cms['c_publish']}: {cms['ceremony']} ms ({cer['c_tasks']} tasks)"
        if cer
        else "-"
    )
    print(
        f"  pool read {ms['pool_read']:.0f} ms, eligibility {ms['eligibility']:.0f} ms, engine {ms['engine']:.0f} ms "
        f"(validate {ms['validate']:.0f}, feasibility {ms['feasibility']:.0f}, hash {ms['pool_hash']:.0f}, "
        f"draw {ms['draw']:.0f}), total {ms['total']:.0f} ms, {int(med['tasks'])} tasks; ceremony {steps}; db {size}",
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
    parser.add_argument("--no-ceremony", dest="ceremony", action="store_false", help="skip commit … publish")
    parser.add_argument("--profile", metavar="PREFIX", help="write a cProfile of each ceremony to PREFIX-db-units.prof")
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
                "commit ms",
                "witness ms",
                "perform ms",
                "publish ms",
                "ceremony ms",
                "db size",
            ],
            ROWS,
        )
    )
    print(f"\n{c.machine_facts()}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
