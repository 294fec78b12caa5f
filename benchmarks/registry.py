"""Unit library (检查对象名录库) list and search latency at 100 000 (or 1 000 000) units.

Populates a throwaway database with N realistic units (``webapp.demo.iter_unit_rows``, Core bulk insert)
in one 大队, builds the schema with the real migrations, runs ANALYZE, then requests ``/registry/units``
through the Flask test client as that 大队's logged-in supervisor: the first page, page 200 (keyset
``?after=``), ``?q=`` with a name fragment, a USCC prefix and an address fragment, and every filter of
``webapp.registry.units.queries.UnitFilters``. Each case runs ``--runs`` times (after one warm-up) as a
full page and as the HTMX partial that search-as-you-type fetches; it prints median and p95 in ms
(server time: the whole WSGI request in-process, no network), and the database size.

Then the search figures (issue 12: name, address and USCC fragments at 1 000 000 units, p95 < 150 ms over the
trigram indexes of migration 9ed31ec19b70): ``--search-samples`` units picked at random, and for each a name
fragment (4 characters of the distinctive part), an address fragment (6 characters after the district) and a
USCC fragment (8 characters from the middle, not a prefix), each searched once as the HTMX partial and once as
the full page — every request a new word, as people type them. p50 / p95 / max per kind.

    .venv/bin/python benchmarks/registry.py                     # 100 000 units, SQLite and PostgreSQL
    .venv/bin/python benchmarks/registry.py --units 1000000
    .venv/bin/python benchmarks/registry.py --no-pg --sqlite /tmp/reg.db
    .venv/bin/python benchmarks/registry.py --reuse             # skip populating (same --units as before)
    .venv/bin/python benchmarks/registry.py --units 1000000 --reuse --search-only --search-samples 60

The SQLite file (default /tmp/suijian-bench-registry.db) and the PostgreSQL database (default
suijian_bench) are wiped unless --reuse is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import func, select

from webapp.extensions import db


def pick_terms(app) -> dict[str, str]:
    """Search terms taken from real rows in the middle of the table (so they exist, typed as a user would)."""
    from webapp.registry.models import Unit, UnitStatus

    with app.app_context():
        total = db.session.execute(select(func.count(Unit.id))).scalar_one()
        mid = db.session.execute(
            select(Unit).where(Unit.uscc.is_not(None), Unit.address.is_not(None)).offset(total // 2).limit(1)
        ).scalar_one()
        page199_last = db.session.execute(
            select(Unit.id)
            .where(Unit.status == UnitStatus.ACTIVE)
            .order_by(Unit.id.desc())
            .offset(199 * 50 - 1)
            .limit(1)
        ).scalar_one_or_none()
        region = mid.region or ""
        # a distinctive part of one unit's name (drop the district prefix and the legal-form suffix)
        name = mid.name
        for prefix in ("洛阳市偃师区", "偃师区", "洛阳市", "洛阳", "偃师"):
            name = name.removeprefix(prefix)
        if region and name.startswith(region):
            name = name.removeprefix(region)
        fragment = name[:4]
        address = mid.address.removeprefix("洛阳市偃师区")[:6]
        return {
            "name": fragment,
            "uscc": mid.uscc[:8],
            "address": address,
            "region": region,
            "after": str(page199_last or ""),
            "full_name": mid.name,
        }


def _distinctive(name: str, region: str) -> str:
    for prefix in ("洛阳市偃师区", "偃师区", "洛阳市", "洛阳", "偃师"):
        name = name.removeprefix(prefix)
    return name.removeprefix(region) if region else name


def pick_fragments(app, samples: int, seed: int = 12) -> dict[str, list[str]]:
    """Name, address and USCC fragments of ``samples`` units spread over the whole table (ids drawn at random)."""
    import random

    from webapp.registry.models import Unit

    rng = random.Random(seed)
    out: dict[str, list[str]] = {"name": [], "address": [], "uscc": []}
    with app.app_context():
        lo, hi = db.session.execute(select(func.min(Unit.id), func.max(Unit.id))).one()
        while len(out["name"]) < samples:
            unit = db.session.execute(
                select(Unit)
                .where(Unit.id >= rng.randint(lo, hi), Unit.uscc.is_not(None), Unit.address.is_not(None))
                .order_by(Unit.id)
                .limit(1)
            ).scalar_one_or_none()
            if unit is None:
                continue
            name = _distinctive(unit.name, unit.region or "")
            out["name"].append(name[:4])  # where a name differs from the others (not 有限公司 at the end)
            address = unit.address.removeprefix("洛阳市偃师区")
            start = rng.randrange(max(1, len(address) - 5))
            out["address"].append(address[start : start + 6])
            out["uscc"].append(unit.uscc[8:16])
    return out


def search_run(client, label: str, units: int, fragments: dict[str, list[str]]) -> list[tuple]:
    """Each fragment once as the HTMX partial and once as the full page; p50 / p95 / max per kind."""
    import statistics

    rows = []
    client.get("/registry/units?q=预热", headers={"HX-Request": "true"})  # warm-up with an unrelated word
    for kind, words in fragments.items():
        htmx, full, found = [], [], []
        for word in words:
            t0 = time.perf_counter()
            resp = client.get("/registry/units", query_string={"q": word}, headers={"HX-Request": "true"})
            htmx.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (word, resp.status_code)
            found.append(resp.get_data(as_text=True).count('<span class="title">'))
            t0 = time.perf_counter()
            resp = client.get("/registry/units", query_string={"q": word})
            full.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (word, resp.status_code)
        hm, hp = c.stats([x / 1000 for x in htmx])
        fm, fp = c.stats([x / 1000 for x in full])
        example = f"「{words[0]}」" if kind != "uscc" else words[0]
        rows.append(
            (label, units, kind, len(words), example, hm, hp, max(htmx), fm, fp, round(statistics.mean(found), 1))
        )
        print(
            f"  search {kind:8s} ×{len(words)}  htmx p50 {hm:6.1f} p95 {hp:6.1f} max {max(htmx):6.1f} ms   "
            f"full p50 {fm:6.1f} p95 {fp:6.1f} ms   (e.g. {example}; {statistics.mean(found):.1f} rows shown)",
            flush=True,
        )
    return rows


SEARCH: list[tuple] = []


def cases(t: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("first page", "/registry/units"),
        ("page 200 (?after=)", f"/registry/units?after={t['after']}"),
        (f"q= name fragment 「{t['name']}」", f"/registry/units?q={t['name']}"),
        ("q= common word 「超市」", "/registry/units?q=超市"),
        ("q= common fragment 「有限公司」", "/registry/units?q=有限公司"),
        (f"q= USCC prefix {t['uscc']}", f"/registry/units?q={t['uscc']}"),
        (f"q= address fragment 「{t['address']}」", f"/registry/units?q={t['address']}"),
        ("q= no match 「不存在的单位」", "/registry/units?q=不存在的单位"),
        ("unit_class=key", "/registry/units?unit_class=key"),
        ("crowded=yes", "/registry/units?crowded=yes"),
        ("risk=red", "/registry/units?risk=red"),
        ("credit=poor", "/registry/units?credit=poor"),
        ("status=zombie", "/registry/units?status=zombie"),
        ("status=all", "/registry/units?status=all"),
        (f"region={t['region']}", f"/registry/units?region={t['region']}"),
        ("missing=any", "/registry/units?missing=any"),
        ("missing=uscc", "/registry/units?missing=uscc"),
        ("suspect=1 (疑似僵尸)", "/registry/units?suspect=1"),
        ("risk=red&crowded=yes&q=店", "/registry/units?risk=red&crowded=yes&q=店"),
    ]


def run(url: str, label: str, args) -> list[tuple]:
    app = c.make_app(url)
    if not args.reuse:
        c.reset_schema(app)
        print(f"{label}: populating {args.units} units …", flush=True)
        c.populate(app, args.units)
        c.analyse(app)
    terms = pick_terms(app)
    size = c.db_size(app)
    client = app.test_client()
    resp = client.post("/login", data={"username": "bench-sup", "password": c.BENCH_PASSWORD})
    assert resp.status_code == 302, f"login failed: {resp.status_code}"
    rows = []
    fragments = pick_fragments(app, args.search_samples)
    SEARCH.extend(search_run(client, label, args.units, fragments))
    for title, path in [] if args.search_only else cases(terms):
        first = client.get(path)
        assert first.status_code == 200, (path, first.status_code)
        full = c.timed(lambda p=path: client.get(p), args.runs)
        htmx = c.timed(lambda p=path: client.get(p, headers={"HX-Request": "true"}), args.runs)
        fm, fp = c.stats(full)
        hm, hp = c.stats(htmx)
        rows.append((label, args.units, title, fm, fp, hm, hp))
        print(f"  {title:40s} full {fm:7.1f} / {fp:7.1f} ms   htmx {hm:7.1f} / {hp:7.1f} ms", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    print(f"{label}: database size {size}")
    SIZES.append((label, args.units, size))
    return rows


SIZES: list[tuple] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per case (after 1 warm-up)")
    parser.add_argument(
        "--sqlite",
        default="/tmp/suijian-bench-registry.db",  # noqa: S108
        help="SQLite file (wiped)",
    )
    parser.add_argument("--pg", default=c.DEFAULT_PG, help="PostgreSQL URL (database wiped)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="use the populated databases of a previous run")
    parser.add_argument("--search-samples", type=int, default=40, help="fragments of each kind (name/address/USCC)")
    parser.add_argument("--search-only", action="store_true", help="only the fragment search figures")
    args = parser.parse_args()
    print(c.machine_facts())
    t0 = time.perf_counter()
    rows: list[tuple] = []
    if not args.no_sqlite:
        rows += run(c.sqlite_url(args.sqlite), "SQLite", args)
    if not args.no_pg and c.ensure_pg_database(args.pg):
        rows += run(args.pg, "PostgreSQL", args)
    if rows:
        print()
        print(
            c.table(
                ["database", "units", "request", "full page median ms", "p95 ms", "HTMX partial median ms", "p95 ms"],
                rows,
            )
        )
    print()
    print(
        c.table(
            [
                "database",
                "units",
                "fragment",
                "searches",
                "e.g.",
                "HTMX p50 ms",
                "p95 ms",
                "max ms",
                "full page p50 ms",
                "p95 ms",
                "rows shown (mean)",
            ],
            SEARCH,
        )
    )
    print()
    print(c.table(["database", "units", "size"], SIZES))
    print(f"\n{c.machine_facts()}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
