"""一单 and the admin pages: items with immutable versions, organisations, users, calendar overrides.

Plain functions over ``db.session``; they never touch ``request``. Rules are checked here (so the seed,
the CLI and the forms share them) and reported as :class:`Invalid` with Chinese messages keyed by field.
Every change writes an audit event in the same transaction; callers commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp import audit
from webapp import calendar as cal
from webapp.auth import services as auth_services
from webapp.auth.models import Organisation, OrgKind, Role, User
from webapp.catalog.models import ITEM_CATEGORIES, ITEM_METHODS, ChecklistPoint, Item, ItemVersion
from webapp.extensions import db

# Department codes an item or an organisation may name (labels in webapp.registry.labels.DEPT).
DEPARTMENTS: tuple[str, ...] = ("fire", "market", "civil_defence")
ITEM_FIELDS: tuple[str, ...] = (
    "name",
    "basis",
    "subject",
    "target",
    "category",
    "methods",
    "ratio_frequency",
    "departments",
)
_MAX_LEN = {"name": 200, "basis": 2000, "subject": 200, "target": 200, "ratio_frequency": 300}
ITEM_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
ORG_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,49}$")
MIN_PASSWORD = 10


class Invalid(Exception):
    """Input breaks a rule. ``errors`` maps a field name (or ``"_form"``) to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


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
            from webapp.registry.labels import DEPT

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
    item: Item, number: int, values: dict[str, Any], points: list[PointData], actor: Any, note: str | None
) -> ItemVersion:
    version = ItemVersion(
        item=item,
        version=number,
        name=values["name"],
        basis=values["basis"],
        subject=values["subject"],
        target=values["target"],
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
    actor: Any,
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
        "category": version.category,
        "methods": split_list(version.methods, "、"),
        "ratio_frequency": version.ratio_frequency,
        "departments": version.dept_list,
    }


def version_points(version: ItemVersion) -> list[PointData]:
    return [PointData(p.dept, p.text, p.basis) for p in version.points]


def create_version(
    actor: Any, item: Item, values: dict[str, Any], points: Iterable[PointData], change_note: str
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


def set_item_active(actor: Any, item: Item, active: bool, reason: str) -> None:
    """Deactivate (no longer drawn or listed as current) or reactivate an item, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": str(_l("请填写原因"))})
    if item.active == active:
        raise Invalid({"reason": str(_l("该事项已是此状态"))})
    item.active = active
    audit.record(
        actor,
        "item.reactivated" if active else "item.deactivated",
        item,
        {"active": [not active, active]},
        reason=reason,
    )


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


# ------------------------------------------------------------------------------------- organisations

ORG_FIELDS = ("name", "short_name", "kind", "dept", "parent_id", "region")


def org_tree(include_inactive: bool = True) -> list[tuple[Organisation, int]]:
    """Every organisation with its depth, parents before children (an indented list)."""
    q = select(Organisation).order_by(Organisation.code)
    if not include_inactive:
        q = q.where(Organisation.active.is_(True))
    orgs = list(db.session.execute(q).scalars())
    by_parent: dict[int | None, list[Organisation]] = {}
    ids = {o.id for o in orgs}
    for o in orgs:
        by_parent.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    out: list[tuple[Organisation, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for o in by_parent.get(parent_id, []):
            out.append((o, depth))
            walk(o.id, depth + 1)

    walk(None, 0)
    return out


def subtree_ids(org_id: int) -> set[int]:
    """The organisation and all its descendants."""
    from webapp.auth.permissions import org_subtree_ids

    return org_subtree_ids([org_id])


def _descendant_ids(org_id: int) -> set[int]:
    return subtree_ids(org_id) - {org_id}


def user_counts() -> dict[int, int]:
    """Active users per organisation id."""
    rows = db.session.execute(
        select(User.org_id, func.count(User.id)).where(User.active.is_(True)).group_by(User.org_id)
    ).all()
    return dict(rows)


_PARENT_RULE = {
    OrgKind.ZONGDUI: (),
    OrgKind.ZHIDUI: (OrgKind.ZONGDUI, None),
    OrgKind.DADUI: (OrgKind.ZHIDUI,),
}


def _parent_error(kind: OrgKind, parent: Organisation | None) -> str | None:
    parent_kind = parent.kind if parent else None
    if kind == OrgKind.DEPARTMENT:
        return None
    if kind == OrgKind.ZONGDUI and parent is not None:
        return str(_l("总队是最高层级，不能有上级机构"))
    if kind == OrgKind.ZHIDUI and parent_kind not in (OrgKind.ZONGDUI, None):
        return str(_l("支队的上级机构只能是总队（或不设上级）"))
    if kind == OrgKind.DADUI and parent_kind != OrgKind.ZHIDUI:
        return str(_l("大队必须隶属于一个支队"))
    return None


def org_errors(values: dict[str, Any], org: Organisation | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values.get("name"):
        errors["name"] = str(_l("请填写机构名称"))
    elif len(values["name"]) > 200:
        errors["name"] = str(_l("不能超过%(n)d个字", n=200))
    if values.get("short_name") and len(values["short_name"]) > 40:
        errors["short_name"] = str(_l("不能超过%(n)d个字", n=40))
    if values.get("region") and len(values["region"]) > 100:
        errors["region"] = str(_l("不能超过%(n)d个字", n=100))
    if values.get("dept") not in DEPARTMENTS:
        errors["dept"] = str(_l("请选择所属部门"))
    kind = values.get("kind")
    if not isinstance(kind, OrgKind):
        errors["kind"] = str(_l("请选择机构类型"))
        return errors
    parent = db.session.get(Organisation, values["parent_id"]) if values.get("parent_id") else None
    if values.get("parent_id") and parent is None:
        errors["parent_id"] = str(_l("上级机构不存在"))
        return errors
    if org is not None and parent is not None and (parent.id == org.id or parent.id in _descendant_ids(org.id)):
        errors["parent_id"] = str(_l("上级机构不能是本机构或其下级机构"))
        return errors
    if parent is not None and not parent.active and (org is None or parent.id != org.parent_id):
        errors["parent_id"] = str(_l("上级机构已停用"))
        return errors
    msg = _parent_error(kind, parent)
    if msg:
        errors["parent_id"] = msg
    if org is not None and kind != org.kind:
        for child in org.children:
            if child.kind != OrgKind.DEPARTMENT and _parent_error(child.kind, org_like(kind)):
                errors["kind"] = str(
                    _l("下级机构“%(c)s”是%(k)s，本机构不能改为此类型", c=child.name, k=_kind_label(child.kind))
                )
                break
    return errors


def org_like(kind: OrgKind) -> Organisation:
    """A stand-in parent of ``kind`` (only ``kind`` is read) for checking children against a new kind."""
    return Organisation(kind=kind)


def _kind_label(kind: OrgKind) -> str:
    from webapp.registry.labels import ORG_KIND

    return str(ORG_KIND[kind])


def _clean_org_values(raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw.get("kind")
    try:
        kind = OrgKind(kind) if kind else None
    except ValueError:
        kind = None
    parent_id = raw.get("parent_id")
    return {
        "name": (raw.get("name") or "").strip(),
        "short_name": (raw.get("short_name") or "").strip() or None,
        "kind": kind,
        "dept": (raw.get("dept") or "").strip(),
        "parent_id": int(parent_id) if parent_id not in (None, "", 0, "0") else None,
        "region": (raw.get("region") or "").strip() or None,
    }


def create_org(actor: Any, code: str, raw: dict[str, Any]) -> Organisation:
    code = (code or "").strip()
    values = _clean_org_values(raw)
    errors = org_errors(values)
    if not ORG_CODE_RE.match(code):
        errors["code"] = str(_l("机构代码只能包含字母、数字、短横线和下划线（2–40位）"))
    elif db.session.execute(select(Organisation.id).where(func.lower(Organisation.code) == code.lower())).first():
        errors["code"] = str(_l("机构代码已存在"))
    if errors:
        raise Invalid(errors)
    org = Organisation(code=code, active=True, **values)
    db.session.add(org)
    db.session.flush()
    audit.record(
        actor,
        "org.created",
        org,
        {"code": code, **{k: audit._plain(v) for k, v in values.items()}},
        org_id=org.id,
    )
    return org


def update_org(actor: Any, org: Organisation, raw: dict[str, Any], reason: str | None = None) -> dict:
    values = _clean_org_values(raw)
    errors = org_errors(values, org)
    if errors:
        raise Invalid(errors)
    changes = audit.diff(org, list(ORG_FIELDS), values)
    if not changes:
        raise Invalid({"_form": str(_l("没有任何修改"))})
    for f in ORG_FIELDS:
        setattr(org, f, values[f])
    audit.record(actor, "org.updated", org, changes, reason=(reason or "").strip() or None, org_id=org.id)
    return changes


def org_blockers(org: Organisation) -> dict[str, int]:
    children = db.session.execute(
        select(func.count(Organisation.id)).where(Organisation.parent_id == org.id, Organisation.active.is_(True))
    ).scalar_one()
    users = db.session.execute(
        select(func.count(User.id)).where(User.org_id == org.id, User.active.is_(True))
    ).scalar_one()
    return {"children": children, "users": users}


def set_org_active(actor: Any, org: Organisation, active: bool, reason: str) -> None:
    """Deactivate (never delete) or reactivate an organisation, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": str(_l("请填写原因"))})
    if org.active == active:
        raise Invalid({"reason": str(_l("该机构已是此状态"))})
    if not active:
        blockers = org_blockers(org)
        msgs = []
        if blockers["children"]:
            msgs.append(str(_l("还有%(n)d个在用的下级机构", n=blockers["children"])))
        if blockers["users"]:
            msgs.append(str(_l("还有%(n)d个在用的用户账号", n=blockers["users"])))
        if msgs:
            raise Invalid({"reason": str(_l("不能停用：该机构%(what)s，请先停用或调整它们", what="，".join(msgs)))})
    elif org.parent is not None and not org.parent.active:
        raise Invalid({"reason": str(_l("上级机构已停用，请先启用上级机构"))})
    org.active = active
    audit.record(
        actor,
        "org.reactivated" if active else "org.deactivated",
        org,
        {"active": [not active, active]},
        reason=reason,
        org_id=org.id,
    )


def get_org(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


# --------------------------------------------------------------------------------------------- users


def list_users(org_id: int | None = None, role: Role | None = None, active: bool | None = None) -> list[User]:
    q = select(User).options(selectinload(User.org)).order_by(User.active.desc(), User.username)
    if org_id:
        q = q.where(User.org_id == org_id)
    if role is not None:
        q = q.where(User.role == role)
    if active is not None:
        q = q.where(User.active.is_(active))
    return list(db.session.execute(q).scalars())


def _role_org_errors(role: Any, org_id: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(role, Role):
        errors["role"] = str(_l("请选择角色"))
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None:
        errors["org_id"] = str(_l("请选择所属机构"))
    elif not org.active:
        errors["org_id"] = str(_l("所选机构已停用"))
    return errors


def create_user(
    actor: Any, username: str, display_name: str, password: str, role: Role | None, org_id: int | None
) -> User:
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    errors = _role_org_errors(role, org_id)
    if not USERNAME_RE.match(username):
        errors["username"] = str(_l("用户名只能包含字母、数字、点、短横线和下划线（3–50位）"))
    elif db.session.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        errors["username"] = str(_l("用户名已存在"))
    if not display_name:
        errors["display_name"] = str(_l("请填写姓名"))
    elif len(display_name) > 100:
        errors["display_name"] = str(_l("不能超过%(n)d个字", n=100))
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = str(_l("初始密码至少%(n)d位", n=MIN_PASSWORD))
    if errors:
        raise Invalid(errors)
    return auth_services.create_user(actor, username, display_name, password, role, org_id)


def update_user(actor: Any, user: User, display_name: str, role: Role | None, org_id: int | None) -> dict:
    display_name = (display_name or "").strip()
    errors = _role_org_errors(role, org_id)
    if not display_name:
        errors["display_name"] = str(_l("请填写姓名"))
    elif len(display_name) > 100:
        errors["display_name"] = str(_l("不能超过%(n)d个字", n=100))
    if getattr(actor, "id", None) == user.id and role != user.role and "role" not in errors:
        errors["role"] = str(_l("不能修改自己的角色"))
    if org_id and org_id == user.org_id:
        errors.pop("org_id", None)  # staying in an organisation that was deactivated meanwhile is allowed
    if errors:
        raise Invalid(errors)
    changes = auth_services.update_user(actor, user, display_name=display_name, role=role, org_id=org_id)
    if not changes:
        raise Invalid({"_form": str(_l("没有任何修改"))})
    return changes


def reset_password(actor: Any, user: User, password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid({"password": str(_l("新密码至少%(n)d位", n=MIN_PASSWORD))})
    auth_services.reset_password(actor, user, password)


def set_user_active(actor: Any, user: User, active: bool, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": str(_l("请填写原因"))})
    if user.active == active:
        raise Invalid({"reason": str(_l("该用户已是此状态"))})
    if not active and getattr(actor, "id", None) == user.id:
        raise Invalid({"reason": str(_l("不能停用自己的账号"))})
    if active and not user.org.active:
        raise Invalid({"reason": str(_l("该用户所属机构已停用，请先调整所属机构"))})
    auth_services.set_active(actor, user, active, reason)


# ------------------------------------------------------------------------------------------ calendar


@dataclass(frozen=True)
class DayCell:
    day: dt.date
    workday: bool
    override: cal.CalendarOverride | None
    draw_day: bool  # one of the month's last two working days (抽取日)
    is_today: bool


def month_grid(year: int, month: int, today: dt.date | None = None) -> list[list[DayCell | None]]:
    """Weeks (Monday first) of the month; ``None`` pads days outside the month."""
    first, last = cal.month_bounds(year, month)
    overrides = cal.db_overrides(first, last)
    rows = {
        o.day: o
        for o in db.session.execute(
            select(cal.CalendarOverride).where(cal.CalendarOverride.day.between(first, last))
        ).scalars()
    }
    draw = set(cal.last_working_days(year, month, 2, overrides))
    cells: list[DayCell | None] = [None] * first.weekday()
    for d in cal.iter_days(first, last):
        cells.append(DayCell(d, cal.is_workday(d, overrides), rows.get(d), d in draw, d == today))
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def official_is_workday(day: dt.date) -> bool:
    """What the official calendar (chinese-calendar, weekdays for unknown years) says, ignoring overrides."""
    return cal.is_workday(day, None)


def year_overrides(year: int) -> list[cal.CalendarOverride]:
    return list(
        db.session.execute(
            select(cal.CalendarOverride)
            .where(cal.CalendarOverride.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
            .order_by(cal.CalendarOverride.day)
        ).scalars()
    )


def set_override(actor: Any, day: dt.date | None, is_workday: bool | None, note: str | None) -> cal.CalendarOverride:
    """Record that ``day`` is (not) a working day; an existing override for the day is changed.

    Overrides are never deleted: to return to the official calendar, set the day to what it says.
    Audited ``calendar.override_set`` with ``{field: [old, new]}``.
    """
    note = (note or "").strip() or None
    errors: dict[str, str] = {}
    if day is None:
        errors["day"] = str(_l("请选择日期"))
    if is_workday is None:
        errors["is_workday"] = str(_l("请选择工作日或休息日"))
    if note and len(note) > 100:
        errors["note"] = str(_l("不能超过%(n)d个字", n=100))
    if errors:
        raise Invalid(errors)
    row = db.session.execute(select(cal.CalendarOverride).where(cal.CalendarOverride.day == day)).scalar_one_or_none()
    if row is None:
        row = cal.CalendarOverride(day=day, is_workday=is_workday, note=note)
        db.session.add(row)
        data = {"day": day.isoformat(), "is_workday": [None, is_workday], "note": [None, note]}
    else:
        if row.is_workday == is_workday and row.note == note:
            raise Invalid({"_form": str(_l("与现有设置相同，无需修改"))})
        data = {"day": day.isoformat(), "is_workday": [row.is_workday, is_workday], "note": [row.note, note]}
        row.is_workday = is_workday
        row.note = note
    db.session.flush()
    audit.record(actor, "calendar.override_set", ("calendar_override", day.isoformat()), data)
    return row
