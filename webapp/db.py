"""The declarative base every model shares: naming convention, typed aliases, UTC datetimes, enums stored as
their values, canonical JSON text."""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
from typing import Annotated, Any

from sqlalchemy import DateTime, Enum, Integer, MetaData, String, Text, TypeDecorator, false, select, update
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Schema objects the migrations create that no model declares: the unit search's FTS5 table (with its shadow
# tables) on SQLite and its trigram GIN indexes on PostgreSQL (migrations/versions/9ed31ec19b70_*).
SEARCH_SCHEMA_PREFIX = "unit_fts"
SEARCH_INDEXES = frozenset({"ix_unit_name_trgm", "ix_unit_address_trgm", "ix_unit_uscc_trgm"})


def include_in_autogenerate(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the search objects above out of ``flask db migrate``'s comparison."""
    if type_ == "table" and name and name.startswith(SEARCH_SCHEMA_PREFIX):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def lock_row(session: Any, model: Any, row_id: int) -> None:
    """Hold the row ``row_id`` of ``model``'s table until the transaction ends, so that requests changing the
    same record run one after the other (and the later one sees what the first committed).

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite locks the whole database for writing instead: an UPDATE that
    changes nothing takes that lock (pysqlite starts the transaction only at the first write, so a plain
    SELECT would not wait). Read the record again afterwards: it may have changed while this request waited.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(table).where(false()).values({table.c.id: table.c.id}))
    else:
        session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_public_id(prefix: str) -> str:
    """An opaque, unguessable public id such as ``U-3fk9…`` (letters, digits, '-', '_')."""
    return f"{prefix}-{secrets.token_urlsafe(9)}"


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str20 = Annotated[str, mapped_column(String(20))]
str40 = Annotated[str, mapped_column(String(40))]
str100 = Annotated[str, mapped_column(String(100))]
str200 = Annotated[str, mapped_column(String(200))]
str500 = Annotated[str, mapped_column(String(500))]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store enum *values* as short strings (portable; readable in SQL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class JSONText(TypeDecorator):
    """JSON stored as canonical text (portable; byte-stable for hashing)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect) -> Any:
        return None if value is None else json.loads(value)
