"""Bulk import at scale: 50 000 units from .xlsx and .csv, on SQLite and (if reachable) PostgreSQL.

For each database and each format (on a freshly migrated, empty schema) it times, through
``webapp.registry.imports.services.import_file`` (the same validate-everything-then-write job the upload runs):
a first import (50 000 new units), a re-import of the same file (every row matched by USCC, nothing
changed), a re-import where every unit changed one field (50 000 updates), and (once per database)
the .xlsx export. Formats: ``xlsx`` as openpyxl's write-only mode saves it (no ``<dimension>``
element, so openpyxl scans the whole sheet to size it), ``xlsx-dim`` with the ``<dimension>`` that
Excel writes, and ``csv`` (UTF-8 with BOM, as Excel's "CSV UTF-8").

    .venv/bin/python benchmarks/import_units.py [--rows 50000] [--formats xlsx,xlsx-dim,csv] [--no-pg]
                                                [--pg postgresql+psycopg://…/suijian_bench]

The PostgreSQL database named by --pg (default: suijian_bench on 127.0.0.1, created if missing) is wiped:
never point it at a database that holds anything you want to keep.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
_TMP = tempfile.mkdtemp(prefix="suijian-bench-")
os.environ.setdefault("SUIJIAN_INSTANCE", os.path.join(_TMP, "instance"))

import openpyxl  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.registry.units.columns import UNIT_COLUMNS  # noqa: E402
from webapp.registry.validation import generate_uscc  # noqa: E402

CLASSES = ("消防安全重点单位", "一般单位", "九小场所", "其他单位")
RISKS = ("红", "黄", "蓝", "绿")
INDUSTRIES = ("批发和零售业", "住宿和餐饮业", "制造业", "教育", "卫生和社会工作", "文化、体育和娱乐业")
REGIONS = ("商城街道", "首阳山街道", "岳滩镇", "顾县镇", "缑氏镇", "府店镇")


def make_rows(n: int, seed: int = 2026) -> list[list]:
    rng = random.Random(seed)
    codes: set[str] = set()
    rows = []
    for i in range(n):
        code = generate_uscc(rng)
        while code in codes:
            code = generate_uscc(rng)
        codes.add(code)
        cls = rng.choice(CLASSES)
        rows.append(
            [
                f"洛阳市偃师区第{i + 1}号商贸有限公司",
                code,
                f"洛阳市偃师区{rng.choice(REGIONS)}建设路{i + 1}号",
                rng.choice(REGIONS),
                rng.choice(INDUSTRIES),
                "王某某",
                "李某某",
                "赵某某",
                f"138{rng.randrange(10**8):08d}",
                cls,
                "是" if cls == "消防安全重点单位" and rng.random() < 0.3 else "否",
                rng.choice(RISKS),
                rng.choice(("良好", "一般", "较差")),
                str(rng.randrange(5)),
                "否",
            ]
        )
    return rows


def write_xlsx(path: str, rows: list[list]) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("units")
    ws.append([c.header for c in UNIT_COLUMNS])
    for r in rows:
        ws.append(r)
    wb.save(path)


def write_xlsx_dimension(path: str, rows: list[list]) -> None:
    """An .xlsx with a <dimension> element, as Excel and most exporters save it (write-only openpyxl omits it)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    ws.append([c.header for c in UNIT_COLUMNS])
    for r in rows:
        ws.append(r)
    wb.save(path)


def write_csv(path: str, rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: what Excel writes as "CSV UTF-8"
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([c.header for c in UNIT_COLUMNS])
        writer.writerows(rows)


WRITERS = {"xlsx": write_xlsx, "xlsx-dim": write_xlsx_dimension, "csv": write_csv}
SUFFIX = {"xlsx": ".xlsx", "xlsx-dim": ".xlsx", "csv": ".csv"}
RESULTS: list[tuple] = []


def ensure_pg_database(url: str) -> bool:
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


def run(url: str, label: str, rows: list[list], workdir: str, fmt: str, export: bool = True) -> None:
    from flask_babel import force_locale
    from flask_migrate import upgrade

    from webapp.auth.models import Organisation, OrgKind, Role, User
    from webapp.registry.imports import services as importer
    from webapp.registry.models import Unit
    from webapp.registry.units.export import export_units

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "IMPORT_BACKGROUND": False, "IMPORT_MAX_ROWS": 200_000})
    with app.app_context(), force_locale("zh_Hans"):
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        org = Organisation(code="bench", name="偃师区消防救援大队", kind=OrgKind.DADUI)
        db.session.add(org)
        db.session.flush()
        user = User(username="bench", display_name="基准", role=Role.SUPERVISOR, org_id=org.id, password_hash="x")  # noqa: S106
        db.session.add(user)
        db.session.commit()

        first = os.path.join(workdir, f"units-{fmt}{SUFFIX[fmt]}")
        WRITERS[fmt](first, rows)
        changed_rows = [[*r[:6], "孙某某", *r[7:]] for r in rows]  # a new 消防安全责任人 everywhere
        changed = os.path.join(workdir, f"units-changed-{fmt}{SUFFIX[fmt]}")
        WRITERS[fmt](changed, changed_rows)

        n = len(rows)
        print(f"\n{label}, .{fmt}: {n} rows ({os.path.getsize(first) / 1e6:.1f} MB file)")
        for title, path in (
            ("first import (all new)", first),
            ("re-import, nothing changed", first),
            ("re-import, every unit changed", changed),
        ):
            t0 = time.perf_counter()
            job = importer.import_file("units", org, path, user)
            seconds = time.perf_counter() - t0
            assert job.status == "done", job.errors
            print(
                f"  {title:32s} {seconds:6.2f} s  {n / seconds:8.0f} rows/s  "
                f"(created {job.created_count}, updated {job.updated_count})"
            )
            RESULTS.append((label, fmt, title, n, seconds, job.created_count, job.updated_count))
        total = db.session.execute(select(func.count(Unit.id))).scalar_one()
        assert total == n, total

        if export:
            with app.test_request_context("/registry/units/export.xlsx?status=all"):
                t0 = time.perf_counter()
                out, count = export_units(user, {"status": "all"})
                db.session.commit()
                seconds = time.perf_counter() - t0
                size = os.fstat(out.fileno()).st_size
                out.close()
            print(f"  {'export':32s} {seconds:6.2f} s  {count / seconds:8.0f} rows/s  ({size / 1e6:.1f} MB)")
            RESULTS.append((label, fmt, "export to .xlsx", count, seconds, "", ""))
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/suijian_bench")
    )
    parser.add_argument("--formats", default="xlsx,xlsx-dim,csv", help="comma-separated: xlsx, xlsx-dim, csv")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    t0 = time.perf_counter()
    rows = make_rows(args.rows)
    print(f"generated {args.rows} rows in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as workdir:
        for fmt in formats:
            db_file = os.path.join(workdir, f"bench-{fmt}.db")
            run("sqlite:///" + db_file, "SQLite", rows, workdir, fmt, export=fmt == formats[0])
        if not args.no_pg and args.pg and ensure_pg_database(args.pg):
            for fmt in formats:
                run(args.pg, "PostgreSQL", rows, workdir, fmt, export=fmt == formats[0])
    print("\n| database | file | step | rows | seconds | rows/s | created | updated |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for label, fmt, title, n, seconds, created, updated in RESULTS:
        print(f"| {label} | .{fmt} | {title} | {n} | {seconds:.2f} | {n / seconds:.0f} | {created} | {updated} |")


if __name__ == "__main__":
    main()
