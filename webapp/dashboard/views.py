"""监管看板 (/dashboard): this month's progress, the year's coverage, results and open rectifications."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from webapp import calendar
from webapp.auth.permissions import supervisor_required
from webapp.dashboard import cache, exports, queries
from webapp.dashboard.charts import Bar, hbars
from webapp.db import utcnow
from webapp.draw.labels import STRATUM
from webapp.inspections.labels import CATEGORY_LABELS
from webapp.inspections.models import PublishedCategory
from webapp.publication.queries import dashboard_summary
from webapp.rectification.labels import FOLLOW_UP
from webapp.registry.audit.labels import ACTION_LABELS
from webapp.registry.labels import RISK_LEVEL
from webapp.registry.units.queries import quality_report
from webapp.trace.queries import dashboard_summary as trace_summary
from webapp.web import is_htmx, render

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _month_chart(rows: list[queries.MonthRow], title: str):
    return hbars(
        [Bar(r.name, r.done, f"{r.done}/{r.planned}", bad=r.overdue > 0) for r in rows],
        title,
        scale=max((r.planned for r in rows), default=1),
    )


def problem_titles() -> dict[str, str]:
    return {
        "leave": _("请假或借调"),
        "frozen": _("已冻结"),
        "cert": _("执法证件过期"),
        "conflict": _("利害关系回避"),
    }


def draw_states() -> dict[str, str]:
    """This month's draw (按时 / 迟 / 未抽取) and next month's (``DrawDue.state``)."""
    return {
        "on_time": _("按时"),
        "late": _("迟"),
        "missing": _("未抽取"),
        "none": _("本月无计划"),
        "upcoming": _("未到抽取时间"),
        "due": _("抽取期间内"),
        "overdue": _("已过抽取时间"),
        "done": _("已抽取"),
        "no_plan": _("下月无计划"),
    }


def outcome_labels() -> dict[str, str]:
    return {
        "rectified": _("已改正"),
        "not_rectified": _("逾期未改正"),
        "pending": _("待复查（未到期限）"),
        "overdue": _("待复查（已过期限）"),
    }


def _rate_chart(rows: list[queries.RateRow], title: str, labels: dict[str, str] | None = None):
    return hbars(
        [Bar(_dim_label(r.key, labels), r.rate, f"{r.rate:.0f}%（{r.problems}/{r.inspections}）") for r in rows],
        title,
        scale=100,
    )


def _dim_label(key: str, labels: dict[str, str] | None = None) -> str:
    if key == queries.OTHERS:
        return _("其他")
    if not key:
        return _("未填写")
    return labels.get(key, key) if labels else key


def sign_titles() -> dict[str, str]:
    return {
        "burst": _("同一人1小时内提交多份检查结果"),
        "far": _("签到位置距单位坐标超过1公里"),
        "no_photo": _("已提交但没有照片"),
        "short": _("检查用时不足10分钟"),
    }


MONTH_MAX_AGE = 60  # seconds: the month's progress is at most a minute old (the year's: DASHBOARD_CACHE_SECONDS)


@dataclass(frozen=True)
class Scope:
    """What the queries need of the user (role and organisation), made by the worker from plain arguments."""

    role: str
    org_id: int


@cache.figures("year")
def year_figures(role: str, org_id: int) -> dict:
    """The figures that aggregate the whole year (stored per scope, computed by the worker: webapp.dashboard.cache)."""
    return _year_figures(Scope(role, org_id), calendar.today())


@cache.figures("month")
def month_figures(role: str, org_id: int) -> tuple:
    """This month's progress per organisation and per inspector (stored per scope for at most a minute)."""
    scope, today = Scope(role, org_id), calendar.today()
    return queries.month_by_org(scope, today), queries.month_by_inspector(scope, today)


def _year_figures(scope: Scope, today) -> dict:
    return {
        "cover": queries.coverage(scope, today),
        "cats": queries.categories(scope, today),
        "by_region": queries.orders_by_region(scope, today),
        "by_risk": queries.orders_by_risk(scope, today),
        "problems": queries.frequent_problems(scope, today),
        "outcomes": queries.order_outcomes(scope, today),
        "follow": queries.follow_ups(scope, today),
        "rates": queries.problems_by(scope, today),
        "quality": quality_report(scope)[0],
        "signs": queries.warnings(scope, today, limit=20),  # per kind: the newest; the page is read on a phone
        "load": queries.load_balance(scope, today),
        "publication": dashboard_summary(scope, today),
    }


def _year_context(year: dict, today) -> dict:
    """Template context of the year's part of the page (charts and tables), from ``_year_figures``."""
    cover, cats = year["cover"], year["cats"]
    labels = {k: str(v) for k, v in STRATUM.items()}  # the strata of the coverage targets
    projections = {c.cls: queries.projection(c.pct, today) for c in cover}
    cat_rows = [(str(CATEGORY_LABELS[c]), cats.get(c.value, 0)) for c in PublishedCategory]
    by_region, by_risk = year["by_region"], year["by_risk"]
    risk_labels = {k.value: str(v) for k, v in RISK_LEVEL.items()}
    problems, outcomes, follow = year["problems"], year["outcomes"], year["follow"]
    rates = {dim: list(rows) for dim, rows in year["rates"].items()}
    order = {k.value: i for i, k in enumerate(RISK_LEVEL)}  # red → green
    rates["risk_level"].sort(key=lambda r: order.get(r.key, len(order)))
    o_labels, f_labels = outcome_labels(), {k.value: str(v) for k, v in FOLLOW_UP.items()}
    dim_labels = {"region": None, "industry": None, "risk_level": risk_labels}
    charts = {
        "coverage": hbars(
            [
                Bar(labels[c.cls], c.pct, f"{c.pct:.0f}%", target=c.target, bad=projections[c.cls] < c.target)
                for c in cover
            ],
            _("年度覆盖率"),
            scale=100,
        ),
        "categories": hbars([Bar(label, n) for label, n in cat_rows], _("检查结果分类")),
        "region": hbars(
            [Bar(r.key or _("未填写"), r.open, f"{r.open}（{r.overdue}）", bad=r.overdue > 0) for r in by_region],
            _("待复查整改（按区域）"),
        ),
        "risk": hbars(
            [
                Bar(risk_labels.get(r.key, _("未填写")), r.open, f"{r.open}（{r.overdue}）", bad=r.overdue > 0)
                for r in by_risk
            ],
            _("待复查整改（按风险等级）"),
        ),
        "problems": hbars(
            [Bar(p.point or _("其他问题"), p.findings) for p in problems], _("最常见的问题（按检查要点）")
        ),
        "outcomes": hbars(
            [Bar(o_labels[k], n, bad=k in ("not_rectified", "overdue") and n > 0) for k, n in outcomes.items()],
            _("整改复查结果"),
        ),
        "follow_ups": hbars([Bar(f_labels[k], n) for k, n in follow.items()], _("逾期未改正的后续处理")),
    }
    for dim, title in (
        ("region", _("问题发现率（按区域）")),
        ("industry", _("问题发现率（按行业）")),
        ("risk_level", _("问题发现率（按风险等级）")),
    ):
        charts[f"{dim}_rate"] = _rate_chart(rates[dim], title, dim_labels[dim])
    signs = year["signs"]
    return {
        "charts": charts,
        "signs": {k: [w for w in signs if w.kind == k] for k in ("burst", "far", "no_photo", "short")},
        "sign_titles": sign_titles(),
        "cover": cover,
        "class_labels": labels,
        "projections": projections,
        "cat_rows": cat_rows,
        "by_region": by_region,
        "by_risk": by_risk,
        "risk_labels": risk_labels,
        "problems": problems,
        "outcome_rows": [(o_labels[k], n) for k, n in outcomes.items()],
        "follow_rows": [(f_labels[k], n) for k, n in follow.items()],
        "rates": rates,
        "dim_labels": dim_labels,
        "dim_label": _dim_label,
        "load": year["load"],
        "quality": year["quality"],
        "publication": year["publication"],
    }


@bp.route("/")
@supervisor_required
def index():
    """The page; ``?part=year`` (htmx) is only its year part, which the page asks for while it is computed."""
    today = calendar.today()
    scope = (str(current_user.role), current_user.org_id)
    # keys without the date: after midnight the last figures are shown (with their time) while recomputed
    year = cache.get("year", scope, wait=False)
    context: dict = {"today": today, "year_ready": year is not None, "charts": {}}
    if year is not None:
        context |= _year_context(year.value, today) | {"year_as_of": year.computed_at}
    events, events_total = queries.sensitive_events(current_user, today)
    context |= {"events": events, "events_total": events_total, "action_labels": ACTION_LABELS}
    if request.args.get("part") == "year" and is_htmx():  # without htmx (a reload, a bookmark): the whole page
        return render("dashboard/index.html", block="year", **context)
    month = cache.get("month", scope, max_age=MONTH_MAX_AGE)
    by_org, by_inspector = month.value
    cannot, cannot_total = queries.cannot_go(current_user, today)
    context["charts"] = {
        "org": _month_chart(by_org, _("各大队本月完成情况")),
        "inspector": _month_chart(by_inspector, _("检查人员本月完成情况")),
        **context["charts"],
    }
    return render(
        "dashboard/index.html",
        card=exports.export_card(current_user),
        trace=trace_summary(current_user, utcnow()),
        by_org=by_org,
        by_inspector=by_inspector,
        month_as_of=month.computed_at,
        cannot=cannot,
        cannot_total=cannot_total,
        problem_titles=problem_titles(),
        draws=queries.draw_timeliness(current_user, today),
        draw_states=draw_states(),
        **context,
    )


from webapp.dashboard import export_views  # noqa: E402, F401  (registers the export routes on bp)
