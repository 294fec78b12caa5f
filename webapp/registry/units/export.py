"""The unit export: the units the list page shows for its query arguments, as an .xlsx that imports again."""

from __future__ import annotations

from typing import IO, Any

import openpyxl

from webapp import audit, xlsx
from webapp.extensions import db
from webapp.registry.imports.kinds import UNITS, unit_labels
from webapp.registry.models import Unit
from webapp.registry.units import queries as unit_queries


def export_units(actor: Any, args: Any) -> tuple[IO[bytes], int]:
    """The units the list page shows for these query arguments (``q``, ``status`` … ) as .xlsx.

    Streams from the database (yield_per) into a write-only workbook, so 100 000 units stay small in
    memory. The header row is UNIT_COLUMNS' headers: an export imports again unchanged. Audited (in the
    session: the caller commits).
    """
    filters = unit_queries.UnitFilters.from_args(args)
    stmt = unit_queries.filtered(actor, filters)
    kind = UNITS
    cols = [getattr(Unit, f) for f in kind.fields]
    query = stmt.with_only_columns(*cols).order_by(None).order_by(Unit.id).execution_options(yield_per=2000)
    count = 0

    def fill(wb: openpyxl.Workbook) -> None:
        nonlocal count
        ws = xlsx.sheet(wb, kind.title)  # typed, formula-safe cells (a name "=HYPERLINK(…)" stays text)
        ws.table_header([c.header for c in kind.columns])  # bold, frozen; the header text an import reads
        labels = xlsx.chinese_labels(unit_labels())
        col_labels = [labels.get(f) for f in kind.fields]  # same cells as kind.to_text, labels resolved once
        for row in db.session.execute(query):
            ws.append([xlsx.cell_out(v, lab) for v, lab in zip(row, col_labels, strict=True)])
            count += 1
        ws.close_table()  # autofilter: the list sorts and filters in a spreadsheet

    out = xlsx.spooled_workbook(fill)
    audit.record(
        actor,
        "export.units",
        ("organisation", actor.org_id),
        {"rows": count, "filters": filters.to_args()},
        org_id=actor.org_id,
    )
    return out, count
