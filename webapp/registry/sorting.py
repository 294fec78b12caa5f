"""Sorting of the library lists (两库 on a desk): ``?sort=<column>&dir=asc|desc``, keyset-paged.

Each list names its sortable columns as SQL expressions that are never NULL (``coalesce`` or a ``case``
rank), so a page can continue after the last row shown: the cursor stays ``?after=<id>`` and the next page
starts after that row's (value, id). An unknown column or direction is ignored (the list's default order,
newest first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import Select

from webapp.extensions import db

ASC, DESC = "asc", "desc"


@dataclass(frozen=True)
class Sort:
    """The column (one of the list's keys, or "" for the default order) and its direction."""

    key: str = ""
    dir: str = ASC

    @classmethod
    def from_args(cls, args: Mapping[str, str], allowed: Mapping[str, object]) -> Sort:
        key = (args.get("sort") or "").strip()
        if key not in allowed:
            return cls()
        direction = (args.get("dir") or "").strip()
        return cls(key, direction if direction in (ASC, DESC) else ASC)

    @property
    def desc(self) -> bool:
        return self.dir == DESC

    def to_args(self) -> dict[str, str]:
        return {"sort": self.key, "dir": self.dir} if self.key else {}

    def next_dir(self, key: str) -> str:
        """The direction a click on ``key``'s header asks for: ascending first, then the reverse."""
        return DESC if key == self.key and not self.desc else ASC

    def aria(self, key: str) -> str:
        """``aria-sort`` of ``key``'s header."""
        if key != self.key:
            return "none"
        return "descending" if self.desc else "ascending"


def ordered_page(
    stmt: Select,
    sort: Sort,
    columns: Mapping[str, Any],
    id_col: Any,
    after: int | None,
    limit: int,
) -> Select:
    """``stmt`` ordered by ``sort`` (ties by id) and limited, starting after the row with id ``after``.

    Without a sort: newest first (id descending), as the lists always were.
    """
    if not sort.key:
        if after is not None:
            stmt = stmt.where(id_col < after)
        return stmt.order_by(id_col.desc()).limit(limit)
    expr = columns[sort.key]
    if after is not None:
        last = db.session.execute(select(expr).where(id_col == after)).first()
        if last is not None:
            value = last[0]
            if sort.desc:
                stmt = stmt.where(or_(expr < value, and_(expr == value, id_col < after)))
            else:
                stmt = stmt.where(or_(expr > value, and_(expr == value, id_col > after)))
    order = (expr.desc(), id_col.desc()) if sort.desc else (expr.asc(), id_col.asc())
    return stmt.order_by(*order).limit(limit)
