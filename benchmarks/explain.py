"""Query plans of the unit list (/registry/units) on a database populated by benchmarks/registry.py.

Prints EXPLAIN (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE) of the page query and of the
capped count query that ``webapp.registry.units.queries.list_units`` runs, for a few list requests. Use it
to see which index a slow case uses (or that it scans the table).

    .venv/bin/python benchmarks/explain.py --url sqlite:////tmp/suijian-bench-registry.db
    .venv/bin/python benchmarks/explain.py --url postgresql+psycopg://postgres@127.0.0.1:5432/suijian_bench
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
from sqlalchemy import func, select, text

from webapp.extensions import db

CASES = {
    "first page": {},
    "q=超市": {"q": "超市"},
    "q=不存在的单位": {"q": "不存在的单位"},
    "q=USCC prefix 91410307": {"q": "91410307"},
    "unit_class=key": {"unit_class": "key"},
    "missing=any": {"missing": "any"},
    "suspect=1": {"suspect": "1"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="bench-sup")
    args = parser.parse_args()
    from webapp.auth.models import User
    from webapp.registry.models import Unit
    from webapp.registry.units import queries as us

    app = c.make_app(args.url)
    with app.app_context(), app.test_request_context("/"):
        user = db.session.execute(select(User).where(User.username == args.user)).scalar_one()
        pg = db.engine.dialect.name == "postgresql"
        for title, qargs in CASES.items():
            stmt = us.filtered(user, us.UnitFilters.from_args(qargs))
            page = stmt.order_by(Unit.id.desc()).limit(51)
            capped = stmt.with_only_columns(Unit.id).order_by(None).limit(us.COUNT_CAP + 1).subquery()
            count = select(func.count()).select_from(capped)
            for name, q in (("page", page), ("count", count)):
                sql = str(q.compile(db.engine, compile_kwargs={"literal_binds": True}))
                prefix = "EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) " if pg else "EXPLAIN QUERY PLAN "
                rows = db.session.execute(text(prefix + sql)).all()
                print(f"\n## {title} — {name}")
                for r in rows:
                    print("   ", r[-1] if not pg else r[0])


if __name__ == "__main__":
    main()
