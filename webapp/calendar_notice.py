"""Reading a year's holidays from the State Council's notice text, or from date ranges typed by hand.

The general office of the State Council publishes each year's schedule (国务院办公厅关于2027年部分节假日安排的通知)
as numbered items, one per holiday::

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。

Within an item, a clause naming dates is a holiday when it says 放假 or 补休 and a working day (调休上班) when it
says 上班; a clause with dates but neither word takes the kind of the next clause of its sentence that has one.
Parenthesised remarks (weekdays, lunar dates, 除夕 advice) are ignored. Ranges may span months ("9月30日至10月7日")
and carry explicit years ("2022年12月31日至2023年1月2日"); "共N天" is checked against the range.

Pure: nothing here touches the database. :func:`parse_notice` and :func:`parse_ranges` return a
:class:`ParsedYear` for review; the admin service saves it (each day a ``CalendarOverride``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_SPAN_DAYS = 15  # no official holiday is longer; a longer range is a typing error
MAX_NOTE = 100  # CalendarOverride.note
# Where entered days came from (CalendarYear.source; stored data, always Chinese).
NOTICE_SOURCE = "国务院办公厅放假通知"  # a notice pasted without its title
HAND_SOURCE = "手工录入"

TITLE_RE = re.compile(r"关于\s*(\d{4})\s*年\s*部分节假日安排的通知")
ITEM_RE = re.compile(  # "二、春节：" at a line's or sentence's start; the name may join two ("国庆节、中秋节")
    r"(?<![^\s。；;])([一二三四五六七八九十]{1,3})\s*[、.．]\s*([^：:，。、\s（(][^：:，。\n]{0,19}?)\s*[：:]"
)
PAREN_RE = re.compile(r"（[^（）]*）|\([^()]*\)")
_DATE = r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日"
RANGE_RE = re.compile(_DATE + r"\s*(?:至|到|—|－|~|～|-)\s*(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日")
DATE_RE = re.compile(_DATE)
TOTAL_RE = re.compile(r"共\s*(\d{1,2})\s*天")
SENTENCE_RE = re.compile(r"[。；;]")
CLAUSE_RE = re.compile(r"[，,]")
REST_WORDS = ("放假", "补休")
WORK_WORDS = ("上班",)
ISO_SPAN_RE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?::|至|到|~|～|—|/)\s*(\d{4}-\d{1,2}-\d{1,2}))?(?:\s+(.+))?$")


@dataclass(frozen=True)
class ParsedDay:
    day: dt.date
    is_workday: bool  # True: 调休上班; False: 放假
    holiday: str  # the holiday's name as the notice gives it (春节, 国庆节、中秋节), or what was typed
    line: str  # the source line, for the review table

    @property
    def note(self) -> str:
        """What the saved override says (CalendarOverride.note; stored data, always Chinese)."""
        if self.is_workday:
            return f"{self.holiday}调休上班"[:MAX_NOTE]
        return (self.holiday or "放假")[:MAX_NOTE]


@dataclass
class ParsedYear:
    """The days read from a notice (or typed ranges), with the problems found; nothing is saved yet."""

    year: int | None
    source: str  # the notice's title, or how the days were entered
    days: list[ParsedDay] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # form field → Chinese message (blocks saving)
    warnings: list[str] = field(default_factory=list)  # shown in the review; do not block saving

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.days)

    @property
    def holidays(self) -> list[dt.date]:
        return [d.day for d in self.days if not d.is_workday]

    @property
    def workdays(self) -> list[dt.date]:
        return [d.day for d in self.days if d.is_workday]


def year_of_title(text: str) -> int | None:
    """The year named in the notice's title (国务院办公厅关于2027年部分节假日安排的通知), if the text has one."""
    found = TITLE_RE.search(text or "")
    return int(found.group(1)) if found else None


def clean_year(raw: object) -> int | None:
    """A year typed into a form or given on the command line, or None when it is not a sensible year."""
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _LineError(Exception):
    pass


def _date(year: str | None, month: str | None, day: str, default_year: int, default_month: int | None) -> dt.date:
    y = int(year) if year else default_year
    m = int(month) if month else default_month
    try:
        return dt.date(y, m or 0, int(day))
    except ValueError:
        raise _LineError(str(_l("日期“%(m)s月%(d)s日”不存在", m=m, d=day))) from None


def _clause_days(clause: str, year: int) -> list[dt.date]:
    """The dates a clause names, ranges expanded."""
    days: list[dt.date] = []

    def take_range(m: re.Match) -> str:
        y1, m1, d1, y2, m2, d2 = m.groups()
        start = _date(y1, m1, d1, year, None)
        end = _date(y2, m2, d2, int(y2) if y2 else start.year, int(m1) if not m2 else None)
        if end <= start and not y2 and start.month == 12 and m2 and int(m2) == 1:
            end = _date(str(start.year + 1), m2, d2, year, None)  # 12月31日至1月2日
        if end <= start:
            raise _LineError(str(_l("日期范围“%(text)s”的结束日期早于开始日期", text=m.group(0))))
        if (end - start).days + 1 > MAX_SPAN_DAYS:
            raise _LineError(str(_l("日期范围“%(text)s”超过%(n)d天，请检查", text=m.group(0), n=MAX_SPAN_DAYS)))
        days.extend(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        return " "

    rest = RANGE_RE.sub(take_range, clause)
    for m in DATE_RE.finditer(rest):
        days.append(_date(m.group(1), m.group(2), m.group(3), year, None))
    return days


def _kind(clause: str) -> bool | None:
    """True for 上班, False for 放假/补休, None when the clause says neither."""
    if any(w in clause for w in WORK_WORDS):
        return True
    if any(w in clause for w in REST_WORDS):
        return False
    return None


def _item_days(holiday: str, body: str, year: int, line: str) -> tuple[list[ParsedDay], list[str]]:
    """Days of one numbered item's text (after "春节："), and warnings (a "共N天" that does not add up)."""
    out: list[ParsedDay] = []
    warnings: list[str] = []
    for sentence in SENTENCE_RE.split(PAREN_RE.sub("", body)):
        pending: list[dt.date] = []
        rest_days = 0
        for clause in CLAUSE_RE.split(sentence):
            pending.extend(_clause_days(clause, year))
            kind = _kind(clause)
            if kind is not None and pending:
                out.extend(ParsedDay(d, kind, holiday, line) for d in pending)
                if not kind:
                    rest_days += len(pending)
                pending = []
        if pending:
            raise _LineError(str(_l("无法判断“%(text)s”中的日期是放假还是上班", text=_collapse(sentence))))
        total = TOTAL_RE.search(sentence)
        if total and int(total.group(1)) != rest_days:
            warnings.append(
                str(
                    _l(
                        "“%(holiday)s”：通知写“共%(n)s天”，但解析出%(m)d天放假，请核对",
                        holiday=holiday,
                        n=total.group(1),
                        m=rest_days,
                    )
                )
            )
    return out, warnings


def _items(text: str) -> list[tuple[str, str, str]]:
    """``(holiday, body, source line)`` for every numbered item; text outside items is left out."""
    items = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        starts = list(ITEM_RE.finditer(line))
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            items.append((m.group(2).strip(), line[m.end() : end], _collapse(line[m.start() : end])))
    return items


def _finish(parsed: ParsedYear, days: list[ParsedDay], field_name: str, problems: list[str]) -> ParsedYear:
    """Merge days (a date given twice keeps its first source), check conflicts, sort."""
    seen: dict[dt.date, ParsedDay] = {}
    for d in days:
        first = seen.get(d.day)
        if first is None:
            seen[d.day] = d
        elif first.is_workday != d.is_workday:
            problems.append(str(_l("%(day)s既被列为放假又被列为上班", day=d.day.isoformat())))
    parsed.days = sorted(seen.values(), key=lambda d: d.day)
    if parsed.year is not None:
        far = [d.day for d in parsed.days if abs(d.day.year - parsed.year) > 1]
        if far:
            problems.append(str(_l("%(day)s不在%(y)d年前后，请检查年份", day=far[0].isoformat(), y=parsed.year)))
    if problems:
        parsed.errors[field_name] = "；".join(dict.fromkeys(problems))
    elif not parsed.days and not parsed.errors:
        parsed.errors[field_name] = str(_l("没有找到任何放假或上班日期"))
    return parsed


def parse_notice(text: str, year: object = None) -> ParsedYear:
    """Read the holidays and 调休 working days from the State Council's notice text.

    ``year`` (a form field; optional) is checked against the year in the notice's title; one of the two is
    needed. Errors are keyed ``notice`` and ``year``.
    """
    text = text or ""
    title_year = year_of_title(text)
    given = clean_year(year) if str(year or "").strip() else None
    title = next((_collapse(ln) for ln in text.splitlines() if TITLE_RE.search(ln)), None)
    parsed = ParsedYear(year=title_year or given, source=(title or NOTICE_SOURCE)[:200])
    if str(year or "").strip() and given is None:
        parsed.errors["year"] = str(_l("请填写%(a)d–%(b)d之间的年份", a=MIN_YEAR, b=MAX_YEAR))
    elif given and title_year and given != title_year:
        parsed.errors["year"] = str(_l("与通知标题中的年份（%(y)d年）不一致", y=title_year))
    elif parsed.year is None:
        parsed.errors["year"] = str(_l("通知中没有找到“关于××××年部分节假日安排的通知”，请填写年份"))
    if not text.strip():
        parsed.errors["notice"] = str(_l("请粘贴国务院办公厅放假通知的全文"))
        return parsed
    if parsed.year is None:
        return parsed
    days: list[ParsedDay] = []
    problems: list[str] = []
    items = _items(text)
    if not items:
        parsed.errors["notice"] = str(_l("没有找到“一、元旦：……”这样的条目，请粘贴通知的全文"))
        return parsed
    for holiday, body, line in items:
        try:
            found, warnings = _item_days(holiday, body, parsed.year, line)
        except _LineError as e:
            problems.append(f"{line[:30]}…：{e}" if len(line) > 30 else f"{line}：{e}")
            continue
        days.extend(found)
        parsed.warnings.extend(warnings)
    return _finish(parsed, days, "notice", problems)


def parse_span(text: str) -> tuple[dt.date, dt.date, str]:
    """``2027-02-06:2027-02-12 春节`` (or ``…至…``, or one date) → (start, end, name); ValueError with a Chinese
    message otherwise."""
    m = ISO_SPAN_RE.match(_collapse(text))
    if not m:
        raise ValueError(str(_l("“%(text)s”不是“2027-02-06:2027-02-12”这样的日期或日期范围", text=text.strip())))
    try:
        start = dt.date.fromisoformat(_iso(m.group(1)))
        end = dt.date.fromisoformat(_iso(m.group(2))) if m.group(2) else start
    except ValueError:
        raise ValueError(str(_l("“%(text)s”中的日期不存在", text=text.strip()))) from None
    if end < start:
        raise ValueError(str(_l("“%(text)s”的结束日期早于开始日期", text=text.strip())))
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise ValueError(str(_l("“%(text)s”超过%(n)d天，请检查", text=text.strip(), n=MAX_SPAN_DAYS)))
    return start, end, (m.group(3) or "").strip()


def _iso(value: str) -> str:
    y, m, d = value.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def parse_ranges(year: object, holidays: list[str], workdays: list[str], source: str | None = None) -> ParsedYear:
    """Holidays (``FROM:TO [name]`` or one date per entry) and 调休 working days (dates) typed by hand for
    ``year``; every day must lie in that year. Errors are keyed ``year``, ``holidays`` and ``workdays``."""
    y = clean_year(year)
    parsed = ParsedYear(year=y, source=(source or HAND_SOURCE)[:200])
    if y is None:
        parsed.errors["year"] = str(_l("请填写%(a)d–%(b)d之间的年份", a=MIN_YEAR, b=MAX_YEAR))
        return parsed
    days: list[ParsedDay] = []
    problems: dict[str, list[str]] = {"holidays": [], "workdays": []}
    for name, entries, is_workday in (("holidays", holidays, False), ("workdays", workdays, True)):
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                start, end, label = parse_span(entry)
            except ValueError as e:
                problems[name].append(str(e))
                continue
            if start.year != y or end.year != y:
                problems[name].append(str(_l("“%(text)s”不在%(y)d年内", text=entry, y=y)))
                continue
            line = _collapse(entry)
            span = (end - start).days + 1
            days.extend(ParsedDay(start + dt.timedelta(days=i), is_workday, label, line) for i in range(span))
    if problems["workdays"]:
        parsed.errors["workdays"] = "；".join(problems["workdays"])
    if not days and not any(problems.values()):
        parsed.errors["holidays"] = str(_l("请至少填写一个放假日期或调休上班日期"))
    return _finish(parsed, days, "holidays", problems["holidays"])
