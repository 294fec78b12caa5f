"""监管看板 (/dashboard): this month's progress, the year's coverage, results and open rectifications."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import current_user

from webapp import calendar
from webapp.auth.permissions import supervisor_required
from webapp.dashboard import queries
from webapp.dashboard.charts import Bar, hbars
from webapp.inspections.models import PublishedCategory
from webapp.web import render

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def class_labels() -> dict[str, str]:
    return {
        "key_crowded": _("人员密集场所（重点单位）"),
        "key": _("其他消防安全重点单位"),
        "general": _("一般单位"),
        "nine_small": _("九小场所"),
    }


def _month_chart(rows: list[queries.MonthRow], title: str):
    return hbars(
        [Bar(r.name, r.done, f"{r.done}/{r.planned}", bad=r.overdue > 0) for r in rows],
        title,
        scale=max((r.planned for r in rows), default=1),
    )


def sign_titles() -> dict[str, str]:
    return {
        "burst": _("同一人1小时内提交多份检查结果"),
        "far": _("签到位置距单位坐标超过1公里"),
        "no_photo": _("已提交但没有照片"),
        "short": _("检查用时不足10分钟"),
    }


@bp.route("/")
@supervisor_required
def index():
    from webapp.inspections.services import CATEGORY_LABELS
    from webapp.registry.labels import RISK_LEVEL

    today = calendar.today()
    by_org = queries.month_by_org(current_user, today)
    by_inspector = queries.month_by_inspector(current_user, today)
    cover = queries.coverage(current_user, today)
    labels = class_labels()
    projections = {c.cls: queries.projection(c.pct, today) for c in cover}
    cats = queries.categories(current_user, today)
    cat_rows = [(CATEGORY_LABELS[c](), cats.get(c.value, 0)) for c in PublishedCategory]
    by_region = queries.orders_by_region(current_user, today)
    by_risk = queries.orders_by_risk(current_user, today)
    risk_labels = {k.value: str(v) for k, v in RISK_LEVEL.items()}
    charts = {
        "org": _month_chart(by_org, _("各大队本月完成情况")),
        "inspector": _month_chart(by_inspector, _("检查人员本月完成情况")),
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
    }
    signs = queries.warnings(current_user, today)
    return render(
        "dashboard/index.html",
        signs={k: [w for w in signs if w.kind == k] for k in ("burst", "far", "no_photo", "short")},
        sign_titles=sign_titles(),
        today=today,
        by_org=by_org,
        by_inspector=by_inspector,
        cover=cover,
        class_labels=labels,
        projections=projections,
        cat_rows=cat_rows,
        by_region=by_region,
        by_risk=by_risk,
        risk_labels=risk_labels,
        charts=charts,
    )


from webapp.dashboard import export_views  # noqa: E402, F401  (registers the export routes on bp)
