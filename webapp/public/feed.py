"""The Atom feeds (RFC 4287) of the public site: newly published draws and results, and the audit log's anchors
(审计日志校验值, webapp/audit.py); and the draw register's feed (抽取公示名册, every committed draw with its
log heads, ``register_entries``).

A result's entry is dated when it went public (published, or its publication deadline came; see
``webapp.public.results``), so a result under 公示前审核 appears only once it is public.

Built with ElementTree so the XML is always well-formed; every text is already masked by the queries.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _

from webapp import audit
from webapp.public import queries, results

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 20


@dataclass
class Entry:
    id: str
    title: str
    link: str
    updated: dt.datetime
    summary: str


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def entries() -> list[Entry]:
    """The newest published draws and results, newest first, at most ``FEED_SIZE``."""
    out: list[Entry] = []
    for d in queries.draw_list(1, per_page=FEED_SIZE).rows:
        status = _("已放弃") if d.status == "abandoned" else _("已公布")
        out.append(
            Entry(
                id=url_for("public.draw", public_id=d.public_id, _external=True),
                title=_("%(org)s %(period)s 抽取结果", org=d.org_name, period=d.period),
                link=url_for("public.draw", public_id=d.public_id, _external=True),
                updated=_utc(d.published_at),
                summary=f"{d.item_name} · {status} · " + _("%(n)d项检查任务", n=d.task_count),
            )
        )
    for r in results.search("", 1, per_page=FEED_SIZE, problems=False).rows:  # the feed shows no free text
        link = url_for("public.results_page", q=r.uscc or r.unit, _external=True) + f"#r-{r.id}"
        summary = f"{r.date.isoformat()} · {r.organisation} · {r.item} · {r.category_label}"
        if r.rectification_label:
            summary += " · " + _("整改情况") + "：" + r.rectification_label
        out.append(
            Entry(
                id=f"{url_for('public.results_page', _external=True)}#r-{r.id}",
                title=_("%(unit)s 抽查结果", unit=r.unit),
                link=link,
                updated=_utc(r.published_at or r.submitted_at),
                summary=summary,
            )
        )
    anchors, _more = audit.anchors_page(1, per_page=FEED_SIZE)
    for a in anchors:
        out.append(
            Entry(
                id=f"{url_for('public.audit_anchors', _external=True)}#a-{a.id}",
                title=_("审计日志校验值 %(date)s", date=a.day.isoformat()),
                link=f"{url_for('public.audit_anchors', _external=True)}#a-{a.id}",
                updated=_utc(a.at),
                summary=f"{a.day.isoformat()} · "
                + _("共%(n)d条记录", n=a.event_count)
                + " · "
                + _("校验值")
                + f" {a.head_hash}",
            )
        )
    out.sort(key=lambda e: (e.updated, e.id), reverse=True)
    return out[:FEED_SIZE]


def version(items: list[Entry]) -> str:
    return queries.etag_for("feed", *(repr(e) for e in items))


def register_entries(listing: queries.RegisterPage) -> list[Entry]:
    """The public register's rows as entries (抽取公示名册): one per committed draw, updated at its last event.

    The summary carries the same fields as the page (status, pool_hash, both commitments, the early reason)
    and one line per event: ``n type at head``, so outsiders can archive the heads as they appear.
    """
    out = []
    for r in listing.rows:
        link = url_for("public.register", _external=True) + f"#d-{r.public_id}"
        lines = [
            f"{r.org_name} · {r.item_name} · {r.period}",
            f"status: {r.status}" + (" (abandoned)" if r.abandoned else ""),
            f"pool_hash: {r.pool_hash}",
            f"commitment: {r.commitment}",
            f"replacement_commitment: {r.replacement_commitment}",
        ]
        if r.early_reason:
            lines.append(_("提前抽取原因") + f": {r.early_reason}")
        lines += [f"{e.n} {e.type} {e.at} {e.head}" for e in r.events]
        out.append(
            Entry(
                id=link,
                title=_("%(org)s %(period)s 抽取记录 %(id)s", org=r.org_name, period=r.period, id=r.public_id),
                link=link,
                updated=_utc(dt.datetime.strptime(r.updated, "%Y-%m-%dT%H:%M:%SZ")) if r.updated else _utc(None),
                summary="\n".join(lines),
            )
        )
    return out


def render_atom(
    items: list[Entry], *, feed_id: str | None = None, title: str | None = None, self_url: str | None = None
) -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-Hans")
    self_url = self_url or url_for("public.feed", _external=True)
    sub(feed, "id", feed_id or self_url)
    sub(feed, "title", title or _("“双随机、一公开”公开信息"))
    sub(feed, "updated", max((e.updated for e in items), default=_utc(None)).isoformat())
    sub(feed, "link", rel="self", href=self_url)
    sub(feed, "link", rel="alternate", href=url_for("public.index", _external=True))
    author = sub(feed, "author")
    sub(author, "name", _("双随机、一公开"))
    for e in items:
        entry = sub(feed, "entry")
        sub(entry, "id", e.id)
        sub(entry, "title", e.title)
        sub(entry, "link", rel="alternate", href=e.link)
        sub(entry, "updated", e.updated.isoformat())
        sub(entry, "summary", e.summary)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
