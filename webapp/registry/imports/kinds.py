"""What differs between the two libraries' imports: one :class:`ImportKind` per library (its columns, key,
validation, template example and notes). The engine (:mod:`webapp.registry.imports.services`) does the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp import xlsx
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.extensions import db
from webapp.registry.inspectors.columns import INSPECTOR_COLUMNS, INSPECTOR_EXAMPLE, INSPECTOR_NOTES, clean_inspector
from webapp.registry.labels import CREDIT_LEVEL, OBJECT_TYPE, RISK_LEVEL, UNIT_CLASS
from webapp.registry.models import Inspector, Unit
from webapp.registry.units.columns import UNIT_COLUMNS, clean_unit
from webapp.registry.validation import Column


@dataclass(frozen=True)
class ImportKind:
    """What differs between the libraries; the engine does the rest."""

    name: str  # "units" | "inspectors" (ImportJob.kind)
    model: type[Any]
    columns: tuple[Column, ...]
    key_field: str  # unique natural key: existing records are matched on it
    clean: Callable[[dict[str, str | None], Organisation], tuple[dict, dict[str, str]]]
    title: Any  # lazy Chinese name of the library
    list_endpoint: str
    public_prefix: str  # new_public_id prefix of the model
    # Rows without a key (or whose key is new) match an existing record of the target organisation with
    # the same values in these fields (and no key of its own) instead of creating a duplicate.
    fallback_fields: tuple[str, ...] = ()
    example: tuple[str, ...] = ()  # the template's example row (texts, in column order)
    notes: dict[str, Any] = field(default_factory=dict)  # field -> how to fill it (docs, template)
    to_text: Callable[[str, Any], Any] | None = None  # export: stored value -> cell value clean() accepts
    unique_fields: tuple[str, ...] = ()  # besides the key, values no two rows of a file may share
    # Checks that depend on who imports (e.g. may this person link that account?): field -> Chinese message.
    check_row: Callable[[dict, Any], dict[str, str]] | None = None

    @property
    def audit_action(self) -> str:
        return f"import.{self.name}"

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)

    @property
    def example_key(self) -> str | None:
        if not self.example:
            return None
        return self.example[self.fields.index(self.key_field)] or None


UNIT_NOTES: dict[str, Any] = {
    "name": _l("必填，不超过200字"),
    "uscc": _l("18位，校验位须正确；已登记的单位按此代码匹配并更新，不会重复新增。请把该列设为“文本”格式"),
    "address": _l("不超过300字；没有统一社会信用代码时，按“单位名称+地址”匹配已有单位"),
    "region": _l("不超过100字，如乡镇（街道）"),
    "industry": _l("不超过100字"),
    "legal_rep": _l("不超过50字"),
    "safety_person": _l("不超过50字"),
    "contact_name": _l("不超过50字"),
    "contact_phone": _l("手机11位或座机，如 0379-67713119"),
    "object_type": _l("社会单位、消防技术服务机构、人防工程及相关单位；空白为社会单位。决定哪些抽查事项可以抽到该单位"),
    "unit_class": _l("消防安全重点单位、一般单位、九小场所、其他单位（也可写“重点”“一般”“九小”“其他”）"),
    "crowded": _l("是 / 否；人员密集场所应属于消防安全重点单位"),
    "risk_level": _l("红、黄、蓝、绿（重大、较大、一般、低风险）；空白为蓝"),
    "credit_level": _l("良好、一般、较差；空白为一般"),
    "complaint_count": _l("非负整数；空白为0"),
    "serious_violation": _l("是 / 否；空白为否"),
}

UNIT_EXAMPLE = (
    "洛阳市偃师区示例商贸有限公司",
    "91410381MA9K7X0L0L",
    "洛阳市偃师区商城路18号",
    "商城街道",
    "批发和零售业",
    "王某某",
    "王某某",
    "李某某",
    "13800138000",
    "社会单位",
    "一般单位",
    "否",
    "蓝",
    "一般",
    "0",
    "否",
)


def _unit_clean(raw: dict[str, str | None], org: Organisation) -> tuple[dict, dict[str, str]]:
    return clean_unit(raw)


def unit_labels() -> dict[str, dict]:
    """The label tables of the unit's coded columns (a cell holds the label, the record the code)."""
    return {
        "object_type": OBJECT_TYPE,
        "unit_class": UNIT_CLASS,
        "risk_level": RISK_LEVEL,
        "credit_level": CREDIT_LEVEL,
    }


def _unit_to_text(field_name: str, value: Any) -> Any:
    return xlsx.cell_out(value, unit_labels().get(field_name))


UNITS = ImportKind(
    name="units",
    model=Unit,
    columns=UNIT_COLUMNS,
    key_field="uscc",
    clean=_unit_clean,
    title=_l("检查对象名录库"),
    list_endpoint="registry.units",
    public_prefix="U",
    fallback_fields=("name", "address"),
    example=UNIT_EXAMPLE,
    notes=UNIT_NOTES,
    to_text=_unit_to_text,
)


def _inspector_clean(raw: dict[str, str | None], org: Organisation) -> tuple[dict, dict[str, str]]:
    return clean_inspector(raw, org_dept=org.dept)


def _inspector_check_row(values: dict, actor: Any) -> dict[str, str]:
    """May this person link that account? Only accounts of organisations the importer manages."""
    manageable = visible_org_ids(actor) if actor is not None else None
    if manageable is None or values.get("user_id") is None:
        return {}
    account = db.session.get_one(User, values["user_id"])
    if account.org_id not in manageable:
        return {"user_id": str(_l("账号“%(u)s”属于您无权管理的机构", u=account.username))}
    return {}


INSPECTORS = ImportKind(
    name="inspectors",
    model=Inspector,
    columns=INSPECTOR_COLUMNS,
    key_field="cert_no",
    clean=_inspector_clean,
    title=_l("执法检查人员名录库"),
    list_endpoint="registry.inspectors",
    public_prefix="I",
    example=INSPECTOR_EXAMPLE,
    notes=dict(INSPECTOR_NOTES),
    unique_fields=("user_id",),
    check_row=_inspector_check_row,
)

KINDS = {k.name: k for k in (UNITS, INSPECTORS)}


def get_kind(name: str) -> ImportKind:
    """The kind of ``ImportJob.kind``; KeyError for an unknown name."""
    return KINDS[name]


def rules_text(kind: ImportKind) -> list[str]:
    """How the import treats a file, in Chinese (the upload page and the template's “填写说明”)."""
    key = kind.column(kind.key_field).header
    lines = [
        _("第1行为列名（表头），列的顺序不限；无法识别的列会被忽略。"),
        _("导入前会先校验全部行：只要有一处错误，就不导入任何数据，并列出每个错误所在的行号。"),
        _("已登记的记录按“%(key)s”匹配：相同则更新（只改有变化的项），不会重复新增。", key=key),
        _("空白单元格不会清除已登记的内容。"),
        _("模板中的示例行请删除后再导入。"),
    ]
    if kind.fallback_fields:
        lines.insert(3, _("没有%(key)s的行，按“单位名称+地址”匹配本机构已有单位。", key=key))
    return lines
