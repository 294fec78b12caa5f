"""公示管理: the supervisors' page for publication deadlines (the daily command is in ``cli``).

The page lists, for the organisations the supervisor oversees, the results awaiting review (待公示), the
checks near or past their deadline that are still not entered (即将超期 / 已超期未录入), penalties awaiting
publication and what was published late this year; supervisors publish selected records and switch their
own organisation's 公示前审核. The rules live in ``services``; the look-ups in ``queries``.
"""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from webapp import calendar
from webapp.auth.models import Organisation
from webapp.auth.permissions import supervisor_required
from webapp.extensions import db
from webapp.publication import queries, services
from webapp.web import after_post, apply_errors, render

bp = Blueprint("publication", __name__, url_prefix="/publication")


class ReviewForm(FlaskForm):
    review = RadioField(_l("公示前审核"), choices=[SelectChoice("on", _l("开启")), SelectChoice("off", _l("关闭"))])
    reason = TextAreaField(_l("修改原因"))


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def _render(form: ReviewForm, status: int = 200):
    today = calendar.today()
    page = _page_arg()
    awaiting, has_next = queries.awaiting_review(current_user, today, page)
    soon, overdue = queries.flagged(current_user, today)
    return render(
        "publication/index.html",
        status=status,
        today=today,
        page=page,
        has_next=has_next,
        awaiting=awaiting,
        soon=soon,
        overdue=overdue,
        penalties=queries.penalties_awaiting(current_user, today),
        late=queries.published_late(current_user, today),
        org=db.session.get(Organisation, current_user.org_id),
        form=form,
    )


def _review_form() -> ReviewForm:
    org = db.session.get(Organisation, current_user.org_id)
    return ReviewForm(data={"review": "on" if org.publication_review else "off"})


@bp.get("/")
@supervisor_required
def index():
    return _render(_review_form())


@bp.post("/publish")
@supervisor_required
def publish():
    """Publish the selected results (``ins``: public ids) and penalties (``pen``: ids) of the user's organisations."""
    today = calendar.today()
    inspections = queries.inspections_to_publish(current_user, request.form.getlist("ins"), today)
    pen_ids = [int(x) for x in request.form.getlist("pen") if x.isdigit()]
    penalties = queries.penalties_to_publish(current_user, pen_ids, today)
    if not inspections and not penalties:
        flash(_("请选择要公示的记录。"), "warning")
        return after_post(url_for("publication.index"))
    n = services.publish(current_user, inspections, penalties, today)
    db.session.commit()
    flash(_("已公示%(n)s条记录。", n=n), "success")
    return after_post(url_for("publication.index"))


@bp.post("/review")
@supervisor_required
def review():
    """Switch 公示前审核 for the supervisor's own organisation, with a reason."""
    form = ReviewForm()
    org = db.session.get(Organisation, current_user.org_id)
    if form.review.data not in ("on", "off"):
        form.review.errors = [_("请选择开启或关闭。")]
        return _render(form, 422)
    try:
        changed = services.set_review(current_user, org, form.review.data == "on", form.reason.data or "")
    except services.PublicationError as e:
        db.session.rollback()
        apply_errors(form, e.errors)
        return _render(form, e.status)
    db.session.commit()
    if changed:
        flash(_("已开启公示前审核。") if org.publication_review else _("已关闭公示前审核。"), "success")
    return after_post(url_for("publication.index"))
