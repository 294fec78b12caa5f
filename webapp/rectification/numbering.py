"""Order numbers (文书编号): an organisation's 文书代字 and patterns, and gap-free sequence numbers.

A pattern such as ``{abbr}消限字〔{year}〕第{seq:04d}号`` gives 偃消限字〔2026〕第0001号. Numbers are unique per
organisation, year and kind of order (:func:`allocate_seq`).
"""

from __future__ import annotations

import string

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp import audit, calendar
from webapp.auth.models import Organisation, User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.rectification.models import DEFAULT_PATTERNS, OrderCounter, OrderKind, OrgNoticeSettings
from webapp.web import ServiceError

MAX_PATTERN = 60
ORDER_FIELDS = ("abbr", "year", "seq")


class NumberingError(ServiceError):
    """An order-number pattern, abbreviation, year or sequence number is not valid."""


def validate_order_pattern(pattern: str) -> str:
    """Check an order-number pattern such as ``{abbr}消限字〔{year}〕第{seq:04d}号``; return it.

    Only the fields ``{abbr}``, ``{year}`` and ``{seq}`` are allowed, each at most once and all three
    required (numbers are unique per organisation and year); format specs are allowed, conversions and
    attribute/index access are not.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise NumberingError(_("请填写文书编号格式。"))
    if len(pattern) > MAX_PATTERN:
        raise NumberingError(_("文书编号格式不能超过%(n)s个字符。", n=MAX_PATTERN))
    seen: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        raise NumberingError(_("文书编号格式有误：花括号不成对。")) from None
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in ORDER_FIELDS or conversion is not None or "{" in (spec or ""):
            raise NumberingError(
                _("文书编号格式只能使用 {abbr}（单位简称）、{year}（年份）和 {seq}（序号），不能使用“%(f)s”。", f=name)
            )
        seen.append(name)
    for required in ORDER_FIELDS:
        if seen.count(required) != 1:
            raise NumberingError(
                _("文书编号格式必须各包含一次 {abbr}、{year} 和 {seq}，例如 {abbr}消限字〔{year}〕第{seq:04d}号。")
            )
    try:
        pattern.format(abbr="偃", year=2026, seq=1)
    except (ValueError, TypeError):
        raise NumberingError(_("文书编号格式有误：序号或年份的格式写法无效，例如 {seq:04d}。")) from None
    return pattern


def format_order_number(pattern: str, org_abbr: str, year: int, seq: int) -> str:
    """``format_order_number("{abbr}消限字〔{year}〕第{seq:04d}号", "偃", 2026, 1)`` → 偃消限字〔2026〕第0001号."""
    validate_order_pattern(pattern)
    if not isinstance(org_abbr, str) or not org_abbr.strip() or "{" in org_abbr or "}" in org_abbr:
        raise NumberingError(_("请先填写本机构的文书简称。"))
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise NumberingError(_("年份无效。"))
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise NumberingError(_("序号必须是正整数。"))
    return pattern.format(abbr=org_abbr.strip(), year=year, seq=seq)


def numbering_for(org: Organisation) -> tuple[dict[str, str], str]:
    """({kind: pattern}, abbr) of an organisation; the abbreviation defaults to its short name."""
    s = db.session.execute(select(OrgNoticeSettings).where(OrgNoticeSettings.org_id == org.id)).scalar_one_or_none()
    if s is not None:
        return {"deadline": s.pattern_deadline, "immediate": s.pattern_immediate}, s.abbr
    return dict(DEFAULT_PATTERNS), org.short_name or org.name


def set_numbering(
    actor: User, org: Organisation, abbr: str, pattern_deadline: str, pattern_immediate: str
) -> OrgNoticeSettings:
    """Set an organisation's 文书代字 and patterns; NumberingError on the field at fault."""
    abbr, pattern_deadline, pattern_immediate = abbr.strip(), pattern_deadline.strip(), pattern_immediate.strip()
    for name, pattern in (("pattern_deadline", pattern_deadline), ("pattern_immediate", pattern_immediate)):
        try:
            format_order_number(pattern, abbr or "X", 2026, 1)
        except NumberingError as e:
            raise NumberingError(e.message, name if abbr else "abbr") from None
    if pattern_deadline.replace("{abbr}", abbr) == pattern_immediate.replace("{abbr}", abbr):
        raise NumberingError(_("两种文书的编号格式不能相同"), "pattern_immediate")
    s = db.session.execute(select(OrgNoticeSettings).where(OrgNoticeSettings.org_id == org.id)).scalar_one_or_none()
    new = {"abbr": abbr, "pattern_deadline": pattern_deadline, "pattern_immediate": pattern_immediate}
    old = {k: getattr(s, k) for k in new} if s else None
    if s is None:
        s = OrgNoticeSettings(org_id=org.id, **new)
        db.session.add(s)
    else:
        for k, v in new.items():
            setattr(s, k, v)
        s.updated_at = utcnow()
    audit.record(actor, "notice.numbering", s, {"old": old, "new": new}, org_id=org.id)
    return s


def example_numbers(org: Organisation) -> dict[str, str]:
    """What the next numbers would look like (not allocated)."""
    patterns, abbr = numbering_for(org)
    year = calendar.today().year
    out = {}
    for kind in OrderKind:
        try:
            out[kind.value] = format_order_number(patterns[kind.value], abbr, year, 1)
        except NumberingError as e:
            out[kind.value] = e.message
    return out


def allocate_seq(org_id: int, year: int, kind: str) -> int:
    """The next number for (org, year, kind), gap-free and unique under concurrency.

    One atomic upsert: ``INSERT … ON CONFLICT DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq``.
    On PostgreSQL the updated row stays locked until the caller's transaction ends, so a second issuer
    waits and then reads the committed value; a rollback returns the number. On SQLite the statement
    takes the database write lock, which serialises writers the same way.
    """
    dialect = db.session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        ins(OrderCounter)
        .values(org_id=org_id, year=year, kind=kind, last_seq=1)
        .on_conflict_do_update(index_elements=["org_id", "year", "kind"], set_={"last_seq": OrderCounter.last_seq + 1})
        .returning(OrderCounter.last_seq)
    )
    return int(db.session.execute(stmt).scalar_one())
