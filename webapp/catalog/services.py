"""一单: inspection items with immutable versions and their checklist points.

Plain functions over ``db.session``; they never touch ``request``. Rules are checked here (so the seed,
the CLI and the forms share them) and reported as :class:`Invalid` with Chinese messages keyed by field.
Every change writes an audit event in the same transaction; callers commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp import audit
from webapp.auth.models import DEPARTMENTS, Organisation, User
from webapp.auth.services import toggle_active
from webapp.catalog.models import (
    ITEM_CATEGORIES,
    ITEM_METHODS,
    ChecklistPoint,
    CommonProblem,
    Item,
    ItemVersion,
    SuggestedOrder,
)
from webapp.extensions import db
from webapp.registry.labels import DEPT
from webapp.registry.models import ObjectType
from webapp.web import ServiceError

ITEM_FIELDS: tuple[str, ...] = (
    "name",
    "basis",
    "subject",
    "target",
    "target_types",
    "category",
    "methods",
    "ratio_frequency",
    "departments",
)
_MAX_LEN = {"name": 200, "basis": 2000, "subject": 200, "target": 200, "ratio_frequency": 300}
ITEM_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class Invalid(ServiceError):
    """Input breaks an item rule. ``errors`` maps a field name (or ``"_form"``) to a Chinese message."""


@dataclass(frozen=True)
class PointData:
    """One checklist point as typed: which department checks it, what, and the legal basis."""

    dept: str
    text: str
    basis: str | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.dept, self.text, self.basis or "")


# ---------------------------------------------------------------------------------------------- items


def split_list(value: str | Sequence[str] | None, sep: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        for other in ("，", "、", ",", ";", "；"):
            value = value.replace(other, sep)
        parts = value.split(sep)
    else:
        parts = list(value)
    return [p.strip() for p in parts if p and p.strip()]


def normalise_item_values(raw: dict[str, Any]) -> dict[str, Any]:
    """Strip text; ``methods`` and ``departments`` become lists in their canonical order."""
    values: dict[str, Any] = {}
    for f in ("name", "basis", "subject", "target", "category", "ratio_frequency"):
        values[f] = (raw.get(f) or "").strip()
    methods = split_list(raw.get("methods"), "、")
    values["methods"] = [m for m in ITEM_METHODS if m in methods] + [m for m in methods if m not in ITEM_METHODS]
    depts = split_list(raw.get("departments"), ",")
    values["departments"] = [d for d in DEPARTMENTS if d in depts] + [d for d in depts if d not in DEPARTMENTS]
    # Not given at all (the seed, scripts): 社会单位, the default population. Given empty: an error.
    given = raw.get("target_types")
    types = [ObjectType.SOCIAL_UNIT.value] if given is None else split_list(given, ",")
    codes = [t.value for t in ObjectType]
    values["target_types"] = [t for t in codes if t in types] + [t for t in types if t not in codes]
    return values


def item_errors(values: dict[str, Any], points: Sequence[PointData]) -> dict[str, str]:
    """The item rules. ``values`` as returned by :func:`normalise_item_values`; points already non-empty.

    Keys: field names, ``points`` for the list as a whole, ``points.<i>.<field>`` for one point.
    """
    errors: dict[str, str] = {}
    required = {
        "name": _l("请填写抽查事项名称"),
        "basis": _l("请填写抽查依据"),
        "subject": _l("请填写检查主体"),
        "target": _l("请填写检查对象"),
        "ratio_frequency": _l("请填写抽查比例和频次"),
    }
    for f, msg in required.items():
        if not values.get(f):
            errors[f] = str(msg)
        elif len(values[f]) > _MAX_LEN[f]:
            errors[f] = str(_l("不能超过%(n)d个字", n=_MAX_LEN[f]))
    if values.get("category") not in ITEM_CATEGORIES:
        errors["category"] = str(_l("事项类别应为“一般检查事项”或“重点检查事项”"))
    methods = values.get("methods") or []
    if not methods:
        errors["methods"] = str(_l("请至少选择一种检查方式"))
    elif any(m not in ITEM_METHODS for m in methods):
        errors["methods"] = str(_l("检查方式应为现场检查、抽样送检或书面检查"))
    types = values.get("target_types") or []
    if not types:
        errors["target_types"] = str(_l("请至少选择一种检查对象类型"))
    elif any(t not in {o.value for o in ObjectType} for t in types):
        errors["target_types"] = str(_l("检查对象类型不在已知类型之中"))
    depts = values.get("departments") or []
    if not depts:
        errors["departments"] = str(_l("请至少选择一个参与部门"))
    elif any(d not in DEPARTMENTS for d in depts):
        errors["departments"] = str(_l("参与部门不在已知部门之中"))

    if not points:
        errors["points"] = str(_l("请至少填写一个检查要点"))
    seen: set[tuple[str, str]] = set()
    for i, p in enumerate(points):
        if p.dept not in DEPARTMENTS:
            errors[f"points.{i}.dept"] = str(_l("未知的部门"))
        elif depts and "departments" not in errors and p.dept not in depts:
            errors[f"points.{i}.dept"] = str(_l("该部门不在本事项的参与部门之中"))
        if len(p.text) > 500:
            errors[f"points.{i}.text"] = str(_l("不能超过%(n)d个字", n=500))
        elif (p.dept, p.text) in seen:
            errors[f"points.{i}.text"] = str(_l("检查要点重复"))
        seen.add((p.dept, p.text))
        if p.basis and len(p.basis) > 300:
            errors[f"points.{i}.basis"] = str(_l("不能超过%(n)d个字", n=300))
    if points and "departments" not in errors and "points" not in errors:
        missing = [d for d in depts if not any(p.dept == d for p in points)]
        if missing:
            errors["points"] = str(
                _l("每个参与部门至少需要一个检查要点（缺少：%(d)s）", d="、".join(str(DEPT[d]) for d in missing))
            )
    return errors


def _clean_points(points: Iterable[PointData]) -> list[PointData]:
    out = []
    for p in points:
        text = (p.text or "").strip()
        if text:
            out.append(PointData(dept=(p.dept or "").strip(), text=text, basis=(p.basis or "").strip() or None))
    return out


def _new_version(
    item: Item, number: int, values: dict[str, Any], points: list[PointData], actor: User | None, note: str | None
) -> ItemVersion:
    version = ItemVersion(
        item=item,
        version=number,
        name=values["name"],
        basis=values["basis"],
        subject=values["subject"],
        target=values["target"],
        target_types=",".join(values["target_types"]),
        category=values["category"],
        methods="、".join(values["methods"]),
        ratio_frequency=values["ratio_frequency"],
        departments=",".join(values["departments"]),
        change_note=note,
        created_by_id=getattr(actor, "id", None),
    )
    for seq, p in enumerate(points, start=1):
        version.points.append(ChecklistPoint(seq=seq, dept=p.dept, text=p.text, basis=p.basis))
    db.session.add(version)
    return version


def create_item(
    actor: User | None,
    *,
    code: str,
    org_id: int,
    values: dict[str, Any],
    points: Iterable[PointData],
    change_note: str | None = None,
) -> Item:
    """A new item with version 1 and its checklist points; audited ``item.created``."""
    code = (code or "").strip()
    values = normalise_item_values(values)
    points = _clean_points(points)
    errors = item_errors(values, points)
    if not ITEM_CODE_RE.match(code):
        errors["code"] = str(_l("事项编码只能包含小写字母、数字和短横线（2–40位，以字母或数字开头）"))
    elif db.session.execute(select(Item.id).where(Item.code == code)).first():
        errors["code"] = str(_l("事项编码已存在"))
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None or not org.active:
        errors["org_id"] = str(_l("请选择在用的所属机构"))
    if errors:
        raise Invalid(errors)
    item = Item(code=code, org_id=org_id, active=True)
    db.session.add(item)
    db.session.flush()
    _new_version(item, 1, values, points, actor, (change_note or "").strip() or None)
    audit.record(
        actor,
        "item.created",
        item,
        {"code": code, "version": 1, "name": values["name"], "points": len(points)},
        reason=change_note,
    )
    return item


def version_values(version: ItemVersion) -> dict[str, Any]:
    """The editable fields of a version, in the shape :func:`item_errors` checks."""
    return {
        "name": version.name,
        "basis": version.basis,
        "subject": version.subject,
        "target": version.target,
        "target_types": [t.value for t in version.target_type_list],
        "category": version.category,
        "methods": split_list(version.methods, "、"),
        "ratio_frequency": version.ratio_frequency,
        "departments": version.dept_list,
    }


def version_points(version: ItemVersion) -> list[PointData]:
    return [PointData(p.dept, p.text, p.basis) for p in version.points]


def create_version(
    actor: User | None, item: Item, values: dict[str, Any], points: Iterable[PointData], change_note: str | None
) -> ItemVersion:
    """Edit an item by adding a new immutable version; earlier versions stay as they were.

    Audited ``item.version_created`` with ``{field: [old, new]}`` and the points added and removed.
    """
    values = normalise_item_values(values)
    points = _clean_points(points)
    note = (change_note or "").strip()
    errors = item_errors(values, points)
    if not note:
        errors["change_note"] = str(_l("请填写修改说明"))
    elif len(note) > 300:
        errors["change_note"] = str(_l("不能超过%(n)d个字", n=300))
    current = item.current
    old_values = version_values(current)
    old_points = version_points(current)
    changes = {
        f: [
            "、".join(old_values[f]) if isinstance(old_values[f], list) else old_values[f],
            "、".join(values[f]) if isinstance(values[f], list) else values[f],
        ]
        for f in ITEM_FIELDS
        if old_values[f] != values[f]
    }
    old_keys = [p.key() for p in old_points]
    new_keys = [p.key() for p in points]
    if not errors and not changes and old_keys == new_keys:
        errors["_form"] = str(_l("与当前版本相比没有任何修改，无需保存新版本"))
    if errors:
        raise Invalid(errors)
    number = current.version + 1
    version = _new_version(item, number, values, points, actor, note)
    data: dict[str, Any] = {"version": [current.version, number], **changes}
    added = [k[1] for k in new_keys if k not in old_keys]
    removed = [k[1] for k in old_keys if k not in new_keys]
    if added or removed or old_keys != new_keys:
        data["points"] = {"added": added, "removed": removed, "count": [len(old_keys), len(new_keys)]}
    audit.record(actor, "item.version_created", item, data, reason=note)
    return version


def set_item_active(actor: User | None, item: Item, active: bool, reason: str | None) -> None:
    """Deactivate (no longer drawn or listed as current) or reactivate an item, with a reason."""
    toggle_active(actor, item, active, reason, kind="item", already=str(_l("该事项已是此状态")))


def list_items() -> list[Item]:
    return list(
        db.session.execute(
            select(Item).options(selectinload(Item.versions)).order_by(Item.active.desc(), Item.id)
        ).scalars()
    )


def get_item(code: str) -> Item | None:
    return db.session.execute(select(Item).where(Item.code == code)).scalar_one_or_none()


def points_by_dept(version: ItemVersion) -> list[tuple[str, list[ChecklistPoint]]]:
    """Checklist points grouped by department, departments in the version's order."""
    groups: dict[str, list[ChecklistPoint]] = {d: [] for d in version.dept_list}
    for p in version.points:
        groups.setdefault(p.dept, []).append(p)
    return [(d, ps) for d, ps in groups.items() if ps]


# ------------------------------------------------------------------------------- common-problem library

MAX_PROBLEM_TEXT = 500
MAX_PROBLEM_BASIS = 500
MAX_DEADLINE_DAYS = 60


def list_problems(item: Item, active_only: bool = False) -> list[CommonProblem]:
    """An item's common problems in their order (active first on the supervisors' page)."""
    stmt = select(CommonProblem).where(CommonProblem.item_id == item.id)
    if active_only:
        stmt = stmt.where(CommonProblem.active.is_(True))
    return list(
        db.session.execute(stmt.order_by(CommonProblem.active.desc(), CommonProblem.seq, CommonProblem.id)).scalars()
    )


def problems_for_version(item_version_id: int) -> list[CommonProblem]:
    """The active common problems offered on site for a task's item version (the library is per item)."""
    version = db.session.get(ItemVersion, item_version_id)
    return list_problems(version.item, active_only=True) if version is not None else []


def _problem_values(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    text = (raw.get("text") or "").strip()
    basis = (raw.get("legal_basis") or "").strip()
    kind_raw = (raw.get("order_kind") or "").strip()
    days_raw = str(raw.get("deadline_days") or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = str(_l("请填写问题描述"))
    elif len(text) > MAX_PROBLEM_TEXT:
        errors["text"] = str(_l("不能超过%(n)d个字", n=MAX_PROBLEM_TEXT))
    if not basis:
        errors["legal_basis"] = str(_l("请填写法律依据（法律法规名称和条款）"))
    elif len(basis) > MAX_PROBLEM_BASIS:
        errors["legal_basis"] = str(_l("不能超过%(n)d个字", n=MAX_PROBLEM_BASIS))
    try:
        kind = SuggestedOrder(kind_raw)
    except ValueError:
        kind = None
        errors["order_kind"] = str(_l("请选择建议的整改方式"))
    days: int | None = None
    if kind == SuggestedOrder.DEADLINE:
        if not days_raw.isdigit() or not 1 <= int(days_raw) <= MAX_DEADLINE_DAYS:
            errors["deadline_days"] = str(_l("责令限期改正请填写1–%(n)d个工作日", n=MAX_DEADLINE_DAYS))
        else:
            days = int(days_raw)
    return {"text": text, "legal_basis": basis, "order_kind": kind, "deadline_days": days}, errors


def _problem_snapshot(p: CommonProblem) -> dict[str, Any]:
    return {
        "text": p.text,
        "legal_basis": p.legal_basis,
        "order_kind": p.order_kind.value if p.order_kind else None,
        "deadline_days": p.deadline_days,
    }


def add_problem(actor: User | None, item: Item, raw: dict[str, Any]) -> CommonProblem:
    """A new common problem of ``item``; audited ``item.problem_added``. The same text twice is refused."""
    values, errors = _problem_values(raw)
    if not errors and any(p.text == values["text"] for p in list_problems(item)):
        errors["text"] = str(_l("常见问题库中已有相同的问题"))
    if errors:
        raise Invalid(errors)
    seq = max((p.seq for p in list_problems(item)), default=0) + 1
    problem = CommonProblem(item_id=item.id, seq=seq, created_by_id=getattr(actor, "id", None), **values)
    db.session.add(problem)
    db.session.flush()
    audit.record(actor, "item.problem_added", item, {"problem": problem.id, **_problem_snapshot(problem)})
    return problem


def update_problem(actor: User | None, problem: CommonProblem, raw: dict[str, Any]) -> dict[str, list]:
    """Change a common problem; findings already made keep their own text. Audited ``item.problem_changed``."""
    values, errors = _problem_values(raw)
    if not errors and any(p.text == values["text"] and p.id != problem.id for p in list_problems(problem.item)):
        errors["text"] = str(_l("常见问题库中已有相同的问题"))
    if errors:
        raise Invalid(errors)
    old = _problem_snapshot(problem)
    for k, v in values.items():
        setattr(problem, k, v)
    new = _problem_snapshot(problem)
    changes = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if changes:
        db.session.flush()
        audit.record(actor, "item.problem_changed", problem.item, {"problem": problem.id, **changes})
    return changes


def set_problem_active(actor: User | None, problem: CommonProblem, active: bool) -> None:
    """No longer offer a problem on site (or offer it again); never deleted. Audited."""
    if problem.active == active:
        return
    problem.active = active
    audit.record(
        actor,
        "item.problem_enabled" if active else "item.problem_disabled",
        problem.item,
        {"problem": problem.id, "text": problem.text},
    )


def get_problem(item: Item, problem_id: Any) -> CommonProblem | None:
    """A problem only through its own item (nested ids are resolved against the parent)."""
    if not str(problem_id).isdigit():
        return None
    problem = db.session.get(CommonProblem, int(problem_id))
    return problem if problem is not None and problem.item_id == item.id else None
