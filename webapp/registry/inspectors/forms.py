"""Forms of the inspector pages. They render fields and carry CSRF; the rules live in ``columns.clean_inspector``
and the services, so the form and bulk import can never disagree about what a valid inspector is.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from webapp.registry.inspectors.queries import usernames
from webapp.registry.labels import INSPECTOR_FIELD as FIELD_LABELS
from webapp.registry.models import Inspector

TEXT_FIELDS = ("name", "post", "rank", "specialties", "cert_no", "cert_valid_until", "draw_weight", "phone", "username")


class InspectorForm(FlaskForm):
    org_id = SelectField(FIELD_LABELS["org_id"], choices=[], validate_choice=False)
    name = StringField(FIELD_LABELS["name"])
    post = SelectField(FIELD_LABELS["post"], choices=[], validate_choice=False)
    rank = StringField(FIELD_LABELS["rank"])
    specialties = StringField(FIELD_LABELS["specialties"])
    cert_no = StringField(FIELD_LABELS["cert_no"])
    cert_valid_until = StringField(FIELD_LABELS["cert_valid_until"])
    can_lead = BooleanField(_l("可担任主办（主办检查人员）"))
    draw_weight = StringField(FIELD_LABELS["draw_weight"])
    phone = StringField(FIELD_LABELS["phone"])
    username = StringField(FIELD_LABELS["username"])
    reason = TextAreaField(_l("修改原因"))

    def raw_values(self) -> dict[str, str]:
        """The typed text, as ``clean_inspector`` expects it."""
        raw = {name: self[name].data or "" for name in TEXT_FIELDS}
        raw["can_lead"] = "是" if self.can_lead.data else "否"
        raw["user_id"] = raw.pop("username")  # the 登录账号 column holds the username
        return raw


def initial_data(insp: Inspector | None, default_org_id: int) -> dict[str, Any]:
    if insp is None:
        return {"org_id": str(default_org_id)}
    data: dict[str, Any] = {"org_id": str(insp.org_id), "can_lead": bool(insp.can_lead)}
    for name in ("name", "post", "rank", "specialties", "cert_no", "phone"):
        data[name] = getattr(insp, name) or ""
    data["cert_valid_until"] = insp.cert_valid_until.isoformat() if insp.cert_valid_until else ""
    data["draw_weight"] = str(insp.draw_weight)
    data["username"] = usernames(insp.user_id).get(insp.user_id, "") if insp.user_id else ""
    return data


# The detail page shows several of these forms at once: explicit ids keep labels and ids unique.


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), id="status-reason")


class UnavailableForm(FlaskForm):
    start_date = StringField(FIELD_LABELS["start_date"], id="period-start")
    end_date = StringField(FIELD_LABELS["end_date"], id="period-end")
    reason = StringField(_l("原因"), id="period-reason")


class ConflictForm(FlaskForm):
    q = StringField(_l("单位名称"), id="conflict-q")
    unit = HiddenField(id="conflict-unit")
    reason = StringField(_l("利害关系"), id="conflict-reason")
