"""Shared set-up for the benchmarks: a throwaway database, bulk population, machine facts, tables.

Not a benchmark itself. Every database named here is wiped: use a file under /tmp for SQLite and a
PostgreSQL database of its own (default ``suijian_bench``), never one that holds anything you keep.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
_TMP = tempfile.mkdtemp(prefix="suijian-bench-")
os.environ.setdefault("SUIJIAN_INSTANCE", os.path.join(_TMP, "instance"))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402

DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/suijian_bench")
BENCH_PASSWORD = "suijian-bench"  # noqa: S105 - throwaway benchmark account
BATCH = 10_000


def sqlite_url(path: str) -> str:
    return "sqlite:///" + os.path.abspath(path)


def ensure_pg_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` if missing. False (and a note) if the server is unreachable."""
    base, _, name = url.rpartition("/")
    try:
        engine = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return True
    except Exception as e:  # not reachable: skip PostgreSQL
        print(f"PostgreSQL not reachable ({type(e).__name__}); skipped")
        return False


def make_app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,  # the benchmark logs in with a plain POST
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "IMPORT_BACKGROUND": False,
        }
    )


def reset_schema(app) -> None:
    """Drop everything, then build the schema with the real Alembic migrations (flask db upgrade)."""
    from flask_migrate import upgrade

    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def populate(app, units: int, inspectors: int = 40, seed: int = 2026, progress: bool = True) -> dict:
    """One 支队 → one 大队 (code ``bench-1``) holding ``units`` units and ``inspectors`` inspectors.

    Units are the demo's realistic rows (``webapp.demo.iter_unit_rows``: classes, risk, credit, zombie,
    closed and incomplete units), bulk-inserted with SQLAlchemy Core in batches. Inspectors have valid
    certificates, ~70 % may lead; 5 % have a week of leave next month and 1 % a declared conflict.
    Returns ids and counts; the supervisor ``bench-sup`` (password ``suijian-bench``) manages ``bench-1``.
    """
    from webapp.auth.models import Organisation, OrgKind, Role, User
    from webapp.catalog.seed import seed_items
    from webapp.demo import DISTRICTS, iter_unit_rows
    from webapp.registry.models import Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability, Unit

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with app.app_context():
        zhidui = Organisation(code="bench-zhidui", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
        db.session.add(zhidui)
        db.session.flush()
        org = Organisation(code="bench-1", name="洛阳市偃师区消防救援大队", kind=OrgKind.DADUI, parent_id=zhidui.id)
        db.session.add(org)
        db.session.flush()
        sup = User(username="bench-sup", display_name="基准主管", role=Role.SUPERVISOR, org_id=org.id)
        sup.set_password(BENCH_PASSWORD)
        db.session.add(sup)
        seed_items(org)
        db.session.commit()
        org_id = org.id

        from webapp.db import utcnow

        now = utcnow()
        used: set[str] = set()
        batch: list[dict] = []
        done = 0
        conn_exec = lambda rows: db.session.connection().execute(insert(Unit.__table__), rows)  # noqa: E731
        # The unit search's indexes (migration 9ed31ec19b70: FTS5 triggers on SQLite, trigram GIN on PostgreSQL)
        # cost several times more row by row than built once at the end: set aside, then put back by their own SQL
        search_index = _set_aside_search_index()
        for row in iter_unit_rows(rng, DISTRICTS[0], org_id, units, used, now):
            batch.append(row)
            if len(batch) >= BATCH:
                conn_exec(batch)
                db.session.commit()
                done += len(batch)
                batch.clear()
                if progress and done % 100_000 == 0:
                    print(f"  … {done} units ({time.perf_counter() - t0:.0f} s)", flush=True)
        if batch:
            conn_exec(batch)
            db.session.commit()
        _restore_search_index(search_index)

        today = dt.date.today()
        insp_rows = [
            {
                "public_id": f"I{i:07d}",
                "org_id": org_id,
                "name": f"检查员{i}",
                "phone": f"139{rng.randrange(10**8):08d}",
                "post": "专职消防监督员" if rng.random() < 0.7 else "兼职消防监督员",
                "cert_no": f"豫410307{i:07d}",
                "cert_valid_until": today + dt.timedelta(days=400 + rng.randrange(1000)),
                "can_lead": rng.random() < 0.7,
                "draw_weight": 100,
                "status": InspectorStatus.ACTIVE,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, inspectors + 1)
        ]
        if insp_rows:
            db.session.connection().execute(insert(Inspector.__table__), insp_rows)
            db.session.commit()
        from sqlalchemy import select

        insp_ids = list(db.session.execute(select(Inspector.id).where(Inspector.org_id == org_id)).scalars())
        start = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        leave = rng.sample(insp_ids, len(insp_ids) // 20)
        for iid in leave:
            d = start + dt.timedelta(days=rng.randrange(20))
            end = d + dt.timedelta(days=6)
            db.session.add(InspectorUnavailability(inspector_id=iid, start_date=d, end_date=end, reason="年休假"))
        unit_ids = list(db.session.execute(select(Unit.id).where(Unit.org_id == org_id).limit(5000)).scalars())
        for iid in rng.sample(insp_ids, len(insp_ids) // 100):
            if unit_ids:
                db.session.add(InspectorConflict(inspector_id=iid, unit_id=rng.choice(unit_ids), reason="亲属任职"))
        db.session.commit()
    seconds = time.perf_counter() - t0
    if progress:
        print(f"  populated {units} units, {inspectors} inspectors in {seconds:.1f} s", flush=True)
    return {"org_id": org_id, "units": units, "inspectors": inspectors, "seconds": seconds}


def _set_aside_search_index() -> list[str]:
    """Drop the unit search's index upkeep for a bulk load; returns the SQL that puts it back."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'unit' AND name LIKE 'unit_fts%'"
        ).all()
        drop = 'DROP TRIGGER "{}"'
        restore = ["INSERT INTO unit_fts(unit_fts) VALUES ('rebuild')"]
    else:
        rows = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'unit' AND indexname LIKE 'ix_unit_%%_trgm'"
        ).all()
        drop = 'DROP INDEX "{}"'
        restore = []
    for name, _sql in rows:
        conn.exec_driver_sql(drop.format(name))
    db.session.commit()
    return [*restore, *(sql for _name, sql in rows)] if rows else []


def _restore_search_index(statements: list[str]) -> None:
    conn = db.session.connection()
    for sql in statements:
        conn.exec_driver_sql(sql)
    db.session.commit()


def analyse(app) -> None:
    """Fresh planner statistics after a bulk load (what a DBA or autovacuum would do)."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


def db_size(app) -> str:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            n = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            path = db.engine.url.database
            n = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return f"{n / 1e6:.0f} MB"


def stats(samples: Sequence[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds of samples in seconds (p95: nearest rank)."""
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return statistics.median(ms), p95


def timed(fn: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (numbers right-aligned), ready to paste into docs/performance.md."""
    align = ["---:" if rows and isinstance(rows[0][i], int | float) else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(f"{c:.1f}" if isinstance(c, float) else str(c) for c in r) + " |")
    return "\n".join(lines)


def machine_facts() -> str:
    import sqlite3

    try:
        pg = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except Exception:
        pg = "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; load {load}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; PostgreSQL {pg}"
    )
