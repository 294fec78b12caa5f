"""Forms of the draw pages.

Fields carry no WTForms validators (their messages would be English): each form's ``parse`` turns the
typed text into values with Chinese messages per field, and the business rules stay in
``webapp.draw.services`` (a ``DrawError`` is shown as a form-level error). Flask-WTF checks the
CSRF token of every POST.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)

from webapp.draw.labels import CREDIT_KEYS, RISK_KEYS, STRATUM, WITNESS_ROLE_LABELS, WITNESS_ROLES
from webapp.draw.models import PlanKind
from webapp.draw.plans import STRATA
from webapp.registry.labels import CREDIT_LEVEL, DEPT, RISK_LEVEL, UNIT_CLASS
from webapp.registry.models import CreditLevel, RiskLevel
from webapp.tasks.labels import SLOT_ROLE, TASK_KIND
from webapp.tasks.models import MANUAL_KINDS, TaskKind
from webapp.web import CheckboxesField, choices

NUM = {"inputmode": "numeric", "autocomplete": "off", "class": "num"}
SIGNED = {"inputmode": "text", "autocomplete": "off", "class": "num"}


MONTHS = choices((str(m), f"{m}月") for m in range(1, 13))
SLOT_ROWS_EXTRA = 2  # blank slot rows offered below the current ones
MAX_SLOTS = 8


def _int(field, low: int, high: int, errors: dict[str, str], *, blank: int | None = None) -> int | None:
    raw = (field.data or "").strip().replace("％", "").replace("%", "")
    if not raw and blank is not None:
        return blank
    if not re.fullmatch(r"[+-]?\d{1,6}", raw) or not low <= int(raw) <= high:
        errors[field.name] = str(_l("请输入%(low)d到%(high)d之间的整数", low=low, high=high))
        return None
    return int(raw)


# --------------------------------------------------------------------------------------------- plans


class SlotForm(Form):
    dept = SelectField(_l("部门"), choices=choices([("", _l("（不使用）")), *DEPT.items()]), validate_choice=False)
    role = SelectField(_l("岗位"), choices=choices(SLOT_ROLE.items()), validate_choice=False)


class PlanForm(FlaskForm):
    name = StringField(_l("计划名称"))
    start_month = SelectField(_l("起始月份"), choices=MONTHS, validate_choice=False)
    end_month = SelectField(_l("结束月份"), choices=MONTHS, validate_choice=False)
    slots = FieldList(FormField(SlotForm), min_entries=0, max_entries=MAX_SLOTS)
    unit_orgs = CheckboxesField(_l("抽取范围（跨区域抽取的大队）"), choices=[])
    unit_classes = CheckboxesField(_l("单位类别"), choices=choices(UNIT_CLASS.items()))
    regions = StringField(_l("所属区域"), render_kw={"placeholder": _l("多个区域用“、”分隔；留空为全部区域")})
    crowded_only = BooleanField(_l("仅限人员密集场所"))
    complaint_each = StringField(_l("每次投诉举报增加"), render_kw=NUM)
    complaint_max = StringField(_l("投诉举报增加上限"), render_kw=NUM)
    serious_violation = StringField(_l("有严重违法违规记录增加"), render_kw=NUM)
    note = TextAreaField(_l("备注"), render_kw={"rows": 2})
    reason = TextAreaField(_l("修改原因"), render_kw={"rows": 2})

    def parse(self, kind: PlanKind, *, editing: bool) -> tuple[dict[str, Any], dict[str, str]]:
        """The plan values the form holds, for ``services.create_plan`` / ``update_plan``."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {"name": (self.name.data or "").strip() or None}
        if values["name"] and len(values["name"]) > 200:
            errors["name"] = str(_l("不能超过%(n)d个字", n=200))
        if kind == PlanKind.ROUTINE:
            values["targets"] = {s: _int(self[f"target_{s}"], 0, 100, errors, blank=0) for s in STRATA}
        else:
            values["monthly_quotas"] = {s: _int(self[f"quota_{s}"], 0, 10000, errors, blank=0) for s in STRATA}
            flt: dict[str, Any] = {}
            if self.unit_classes.data:
                flt["unit_classes"] = [c for c in (k.value for k in UNIT_CLASS) if c in self.unit_classes.data]
            regions = [r.strip() for r in re.split(r"[、,，;；\s]+", self.regions.data or "") if r.strip()]
            if regions:
                flt["regions"] = regions
            if self.crowded_only.data:
                flt["crowded_only"] = True
            values["pool_filter"] = flt or None
            quota_errors = any(k.startswith("quota_") for k in errors)
            if not quota_errors and not any(values["monthly_quotas"].values()):
                errors["quota_key_crowded"] = str(_l("专项检查至少要为一类单位设置每月抽查数量"))
        values["weights"] = {
            "risk": {r: _int(self[f"risk_{r}"], 1, 1000, errors) for r in RISK_KEYS},
            "credit": {c: _int(self[f"credit_{c}"], -500, 500, errors, blank=0) for c in CREDIT_KEYS},
            "complaint_each": _int(self.complaint_each, 0, 1000, errors, blank=0),
            "complaint_max": _int(self.complaint_max, 0, 1000, errors, blank=0),
            "serious_violation": _int(self.serious_violation, 0, 1000, errors, blank=0),
        }
        values["slots"] = [
            {"dept": e.form.dept.data, "role": e.form.role.data if e.form.role.data in SLOT_ROLE else "assist"}
            for e in self.slots
            if e.form.dept.data in DEPT
        ]
        values["start_month"] = int(self.start_month.data) if (self.start_month.data or "").isdigit() else 1
        values["end_month"] = int(self.end_month.data) if (self.end_month.data or "").isdigit() else 12
        if values["start_month"] > values["end_month"]:
            errors["end_month"] = str(_l("结束月份不能早于起始月份"))
        if self.unit_orgs.choices:
            chosen = [int(v) for v in self.unit_orgs.data or [] if str(v).isdigit()]
            # web.choices gives SelectChoice objects, which types-wtforms 3.2 does not know
            allowed = {int(c.value) for c in self.unit_orgs.choices}  # type: ignore[union-attr]
            values["unit_org_ids"] = sorted(v for v in chosen if v in allowed)
            if not values["unit_org_ids"]:
                errors["unit_orgs"] = str(_l("请至少选择一个大队"))
        values["note"] = (self.note.data or "").strip() or None
        if editing and not (self.reason.data or "").strip():
            errors["reason"] = str(_l("请填写修改原因（写入审计日志）"))
        return values, errors


for _s in STRATA:
    setattr(PlanForm, f"target_{_s}", StringField(STRATUM[_s], render_kw=NUM))
    setattr(PlanForm, f"quota_{_s}", StringField(STRATUM[_s], render_kw=NUM))
for _r in RISK_KEYS:
    setattr(PlanForm, f"risk_{_r}", StringField(RISK_LEVEL[RiskLevel(_r)], render_kw=NUM))
for _c in CREDIT_KEYS:
    setattr(PlanForm, f"credit_{_c}", StringField(CREDIT_LEVEL[CreditLevel(_c)], render_kw=SIGNED))


def plan_form_data(
    *,
    name: str | None,
    targets: dict,
    monthly_quotas: dict | None,
    weights: dict,
    slots: list,
    unit_org_ids: list[int],
    pool_filter: dict | None,
    start_month: int,
    end_month: int,
    note: str | None,
) -> dict[str, Any]:
    """Form data for a plan (new with defaults, or existing)."""
    data: dict[str, Any] = {
        "name": name or "",
        "start_month": str(start_month),
        "end_month": str(end_month),
        "note": note or "",
        "unit_orgs": [str(i) for i in unit_org_ids],
        "complaint_each": str(weights.get("complaint_each", 0)),
        "complaint_max": str(weights.get("complaint_max", 0)),
        "serious_violation": str(weights.get("serious_violation", 0)),
    }
    for s in STRATA:
        data[f"target_{s}"] = str(targets.get(s, 0))
        data[f"quota_{s}"] = str((monthly_quotas or {}).get(s, 0))
    for r in RISK_KEYS:
        data[f"risk_{r}"] = str(weights.get("risk", {}).get(r, 100))
    for c in CREDIT_KEYS:
        data[f"credit_{c}"] = str(weights.get("credit", {}).get(c, 0))
    rows = [{"dept": s["dept"], "role": s["role"]} for s in slots][:MAX_SLOTS]
    rows += [{"dept": "", "role": "assist"}] * min(SLOT_ROWS_EXTRA, MAX_SLOTS - len(rows))
    data["slots"] = rows
    flt = pool_filter or {}
    data["unit_classes"] = list(flt.get("unit_classes", []))
    data["regions"] = "、".join(flt.get("regions", []))
    data["crowded_only"] = bool(flt.get("crowded_only"))
    return data


# ------------------------------------------------------------------------------------------ ceremony


class CommitForm(FlaskForm):
    """Freeze the pool and commit: a confirmation step, and the reason when it comes before the due window."""

    period = StringField(_l("抽取期间"))
    confirmed = StringField()
    early_reason = TextAreaField(
        _l("提前抽取原因"),
        render_kw={"rows": 3, "maxlength": 1000, "placeholder": _l("例如：下月初有重大活动安保任务，需提前安排检查")},
    )


class WitnessForm(FlaskForm):
    name = StringField(_l("见证人姓名"), render_kw={"autocomplete": "off", "maxlength": 50})
    role = SelectField(
        _l("身份"), choices=choices((r, WITNESS_ROLE_LABELS[r]) for r in WITNESS_ROLES), validate_choice=False
    )
    role_other = StringField(_l("其他身份（选“其他”时填写）"), render_kw={"autocomplete": "off", "maxlength": 40})
    value = StringField(
        _l("见证人输入的随机数值"),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": 200,
            "placeholder": _l("例如：掷骰子20次得到的数字"),
        },
    )

    def parse(self) -> tuple[tuple[str, str, str], dict[str, str]]:
        errors: dict[str, str] = {}
        name = (self.name.data or "").strip()
        role = self.role.data if self.role.data in WITNESS_ROLES else "其他"
        other = (self.role_other.data or "").strip()
        if role == "其他" and other:
            role = f"其他（{other}）"[:50]
        value = (self.value.data or "").strip()
        if not name:
            errors["name"] = str(_l("请填写见证人姓名"))
        elif len(name) > 50:
            errors["name"] = str(_l("不能超过%(n)d个字", n=50))
        if not value:
            errors["value"] = str(_l("请见证人输入一个随机数值（如20位骰子点数）"))
        elif len(value) > 200:
            errors["value"] = str(_l("不能超过%(n)d个字", n=200))
        return (name, role, value), errors


class ReasonForm(FlaskForm):
    """Abandon a draw: the reason is required and published."""

    reason = TextAreaField(_l("放弃原因"), render_kw={"rows": 3, "maxlength": 1000})


class ReplaceForm(FlaskForm):
    slot = SelectField(_l("需要递补的人员"), choices=[], validate_choice=False)
    reason = StringField(
        _l("递补原因"), render_kw={"maxlength": 500, "placeholder": _l("例如：因病住院，无法参加检查")}
    )


class EmptyForm(FlaskForm):
    """A POST with nothing but the CSRF token (draw, publish, close) and the confirmation flag."""

    confirmed = StringField()


# ------------------------------------------------------------------------------- complaint / referral


class ManualTaskForm(FlaskForm):
    q = StringField(
        _l("查找单位"), render_kw={"autocomplete": "off", "placeholder": _l("单位名称、统一社会信用代码或地址")}
    )
    unit = StringField(_l("检查对象"))
    item = SelectField(_l("抽查事项"), choices=[], validate_choice=False)
    kind = RadioField(
        _l("任务来源"),
        choices=choices((k, TASK_KIND[k]) for k in MANUAL_KINDS),
        default=TaskKind.COMPLAINT.value,
        validate_choice=False,
    )
    planned_date = StringField(_l("计划检查日期"), render_kw={"type": "date"})
    lead = SelectField(_l("主办人员"), choices=[], validate_choice=False)
    assist = SelectField(_l("协办人员"), choices=[], validate_choice=False)
    origin_note = TextAreaField(
        _l("来源说明"),
        render_kw={
            "rows": 3,
            "maxlength": 1000,
            "placeholder": _l("例如：12345热线转办，工单号……；群众举报安全出口锁闭"),
        },
    )

    def parse(self, today: dt.date) -> tuple[dict[str, Any], dict[str, str]]:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if not (self.unit.data or "").strip():
            errors["unit"] = str(_l("请先查找并选择检查对象"))
        if self.kind.data not in (TaskKind.COMPLAINT.value, TaskKind.REFERRAL.value):
            errors["kind"] = str(_l("请选择任务来源"))
        else:
            values["kind"] = TaskKind(self.kind.data)
        try:
            values["planned_date"] = dt.date.fromisoformat((self.planned_date.data or "").strip())
        except ValueError:
            errors["planned_date"] = str(_l("请选择计划检查日期"))
        else:
            if values["planned_date"] < today:
                errors["planned_date"] = str(_l("计划检查日期不能早于今天"))
        if not self.lead.data:
            errors["lead"] = str(_l("请选择主办人员"))
        if not self.assist.data:
            errors["assist"] = str(_l("请选择协办人员"))
        elif self.assist.data == self.lead.data:
            errors["assist"] = str(_l("主办和协办不能是同一人"))
        if not (self.origin_note.data or "").strip():
            errors["origin_note"] = str(_l("请填写任务来源（举报投诉或转办交办的来源、编号）"))
        return values, errors
