"""The one label table of auth's codes: roles and organisation kinds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.auth.models import OrgKind, Role

ROLE_LABELS = {Role.ADMIN: _l("管理员"), Role.SUPERVISOR: _l("监管负责人"), Role.INSPECTOR: _l("执法检查人员")}
ORG_KIND = {
    OrgKind.ZONGDUI: _l("总队"),
    OrgKind.ZHIDUI: _l("支队"),
    OrgKind.DADUI: _l("大队"),
    OrgKind.DEPARTMENT: _l("其他部门"),
}
