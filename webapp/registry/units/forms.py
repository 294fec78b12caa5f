"""Forms of the unit pages. They render fields and carry CSRF; the rules live in ``columns.clean_unit``.

No field here has its own validators: every value goes through ``clean_unit`` (the same function bulk
import uses), so the form and the import can never disagree about what a valid unit is.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from webapp.registry.labels import CREDIT_LEVEL, OBJECT_TYPE, RISK_LEVEL, UNIT_CLASS, UNIT_STATUS
from webapp.registry.labels import UNIT_FIELD as FIELD_LABELS
from webapp.registry.models import CreditLevel, ObjectType, RiskLevel, Unit, UnitStatus
from webapp.registry.units.columns import UNIT_FIELDS
from webapp.web import choices

TEXT_FIELDS = (
    "name",
    "uscc",
    "address",
    "region",
    "industry",
    "legal_rep",
    "safety_person",
    "contact_name",
    "contact_phone",
    "object_type",
    "unit_class",
    "risk_level",
    "credit_level",
    "complaint_count",
)
BOOL_FIELDS = ("crowded", "serious_violation")


class UnitForm(FlaskForm):
    org_id = SelectField(FIELD_LABELS["org_id"], choices=[], validate_choice=False)
    name = StringField(FIELD_LABELS["name"])
    uscc = StringField(FIELD_LABELS["uscc"])
    address = StringField(FIELD_LABELS["address"])
    region = StringField(FIELD_LABELS["region"])
    industry = StringField(FIELD_LABELS["industry"])
    legal_rep = StringField(FIELD_LABELS["legal_rep"])
    safety_person = StringField(FIELD_LABELS["safety_person"])
    contact_name = StringField(FIELD_LABELS["contact_name"])
    contact_phone = StringField(FIELD_LABELS["contact_phone"])
    object_type = SelectField(FIELD_LABELS["object_type"], choices=choices(OBJECT_TYPE.items()), validate_choice=False)
    unit_class = SelectField(
        FIELD_LABELS["unit_class"],
        choices=choices([("", _l("（未填）")), *UNIT_CLASS.items()]),
        validate_choice=False,
    )
    crowded = BooleanField(_l("属于人员密集场所"))
    risk_level = SelectField(FIELD_LABELS["risk_level"], choices=choices(RISK_LEVEL.items()), validate_choice=False)
    credit_level = SelectField(
        FIELD_LABELS["credit_level"], choices=choices(CREDIT_LEVEL.items()), validate_choice=False
    )
    complaint_count = StringField(FIELD_LABELS["complaint_count"])
    serious_violation = BooleanField(_l("有严重违法违规记录"))
    reason = TextAreaField(_l("修改原因"))

    def raw_values(self) -> dict[str, str]:
        """The typed text, as ``clean_unit`` expects it."""
        raw = {name: self[name].data or "" for name in TEXT_FIELDS}
        for name in BOOL_FIELDS:
            raw[name] = "是" if self[name].data else "否"
        return raw


def initial_data(unit: Unit | None, default_org_id: int) -> dict[str, Any]:
    """Form values for a new unit or an existing one (selects hold the stored codes as text)."""
    if unit is None:
        return {
            "org_id": str(default_org_id),
            "object_type": ObjectType.SOCIAL_UNIT.value,
            "risk_level": RiskLevel.BLUE.value,
            "credit_level": CreditLevel.NORMAL.value,
            "complaint_count": "0",
        }
    data: dict[str, Any] = {"org_id": str(unit.org_id)}
    for name in UNIT_FIELDS:
        value = getattr(unit, name)
        if name in BOOL_FIELDS:
            data[name] = bool(value)
        elif value is None:
            data[name] = ""
        else:
            data[name] = value.value if hasattr(value, "value") else str(value)
    return data


class StatusForm(FlaskForm):
    status = SelectField(_l("新的状态"), choices=choices(UNIT_STATUS.items()), validate_choice=False)
    reason = TextAreaField(_l("原因"))

    def for_unit(self, unit: Unit) -> StatusForm:
        """Offer the statuses the unit is not in; the first one is preselected."""
        self.status.choices = choices((s, UNIT_STATUS[s]) for s in UnitStatus if s != unit.status)
        return self
