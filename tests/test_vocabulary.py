"""One vocabulary: every code the code base can emit has a Chinese label, in its package's one label table.

- every member of every StrEnum of ``webapp/**/models.py`` (statuses, kinds, roles, risk, credit, classes …)
  is a key of a table in its package's ``labels.py`` (or a sub-package's);
- every audit action passed to ``audit.record(...)`` anywhere in ``webapp/`` (read from the source) has an
  entry in the one ``ACTION_LABELS`` table; computed actions are expanded from the code that makes them;
- every reason a unit or an inspector is left out of a draw pool has a label in ``draw/labels.py``.
"""

from __future__ import annotations

import ast
import enum
import functools
import importlib
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[1] / "webapp"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(WEBAPP.parent).with_suffix("").parts)


@functools.cache
def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(WEBAPP.rglob("*.py"))]


def _chinese(label: object) -> bool:
    return bool(CJK.search(str(label)))


# ------------------------------------------------------------------------------------------------ enums


def _enums() -> list[tuple[str, type[enum.StrEnum]]]:
    out = []
    for path in sorted(WEBAPP.rglob("models.py")):
        if path.parent == WEBAPP:  # webapp/models.py only gathers the packages' models
            continue
        mod = importlib.import_module(_module(path))
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, enum.StrEnum) and obj.__module__ == mod.__name__:
                out.append((path.relative_to(WEBAPP).parts[0], obj))
    return out


def _label_tables(package: str) -> list[Mapping]:
    tables = []
    for path in sorted((WEBAPP / package).rglob("labels.py")):
        mod = importlib.import_module(_module(path))
        tables += [v for v in vars(mod).values() if isinstance(v, Mapping)]
    return tables


ENUMS = _enums()


@pytest.mark.parametrize("package,enum_cls", ENUMS, ids=[f"{p}.{e.__name__}" for p, e in ENUMS])
def test_every_enum_member_has_a_chinese_label_in_its_package(package, enum_cls):
    members = {m.value for m in enum_cls}
    tables = [t for t in _label_tables(package) if members <= {str(k) for k in t}]
    assert tables, f"no table in webapp/{package}/**/labels.py labels every {enum_cls.__name__}: {sorted(members)}"
    table = {str(k): v for k, v in tables[0].items()}
    missing = sorted(m for m in members if not _chinese(table[m]))
    assert not missing, f"{enum_cls.__name__} members without a Chinese label: {missing}"


def test_the_enum_scan_finds_the_enums():
    names = {e.__name__ for _, e in ENUMS}
    assert {"TaskStatus", "DrawStatus", "Role", "OrgKind", "RiskLevel", "OrderStatus", "InspectionStatus"} <= names


# ---------------------------------------------------------------------------------------- audit actions


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Attribute) and f.attr == name) or (isinstance(f, ast.Name) and f.id == name):
                yield node


def _passed(func: str, param: str, index: int | None) -> set[str]:
    """The literal values every call of ``func`` anywhere in webapp/ passes as ``param``."""
    values = set()
    for _path, tree in _sources():
        for call in _calls(tree, func):
            arg = next((k.value for k in call.keywords if k.arg == param), None)
            if arg is None and index is not None and len(call.args) > index:
                arg = call.args[index]
            if arg is not None:
                values |= _expand(arg, None, f"{func}(...)")
    return values


def _param(name: str, func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> tuple[str, int | None] | None:
    """(function name, positional index or None) if ``name`` is a parameter of ``func``."""
    if func is None:
        return None
    positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    if name in positional:
        return func.name, positional.index(name)
    if name in [a.arg for a in func.args.kwonlyargs]:
        return func.name, None
    return None


def _expand(expr: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef | None, where: str) -> set[str]:
    """The action codes an ``audit.record`` action argument can take.

    A literal; either branch of ``a if c else b``; a parameter of the enclosing function (or an f-string of
    one), expanded to the literals its callers pass; two computed families named below.
    """
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _expand(expr.body, func, where) | _expand(expr.orelse, func, where)
    if isinstance(expr, ast.Name) and (p := _param(expr.id, func)):
        return _passed(p[0], expr.id, p[1])
    if isinstance(expr, ast.JoinedStr):
        parts = [v.value.id for v in expr.values if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)]
        if len(parts) == 1 and len([v for v in expr.values if isinstance(v, ast.FormattedValue)]) == 1:
            name = parts[0]
            p = _param(name, func)
            template = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in expr.values)
            if template == "export.{}":  # dashboard exports: one action per export kind
                from webapp.dashboard.exports import KINDS

                return {template.format(k) for k in KINDS}
            if p:
                return {template.format(k) for k in _passed(p[0], name, p[1])}
    text = ast.unparse(expr)
    if text == "kind.audit_action":
        from webapp.registry.imports.kinds import KINDS as IMPORT_KINDS

        return {k.audit_action for k in IMPORT_KINDS.values()}
    raise AssertionError(f"{where}: cannot tell which audit actions `{text}` makes; teach test_vocabulary._expand")


def audit_actions() -> dict[str, str]:
    """action code → where it is recorded."""
    found: dict[str, str] = {}
    for path, tree in _sources():
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for call in _calls(tree, "record"):
            f = call.func
            if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "audit"):
                continue
            arg = call.args[1] if len(call.args) > 1 else next(k.value for k in call.keywords if k.arg == "action")
            where = f"{path.relative_to(WEBAPP.parent)}:{call.lineno}"
            inside = [fn for fn in funcs if fn.lineno <= call.lineno <= (fn.end_lineno or fn.lineno)]
            func = max(inside, key=lambda fn: fn.lineno) if inside else None  # the innermost
            for code in _expand(arg, func, where):
                found.setdefault(code, where)
    return found


def test_every_audit_action_has_a_chinese_label():
    from webapp.registry.audit.labels import ACTION_LABELS

    actions = audit_actions()
    assert {"draw.abandoned", "draw.replaced", "inspection.finding_delete", "org.deactivated"} <= set(actions)
    missing = sorted(f"{a} ({w})" for a, w in actions.items() if not _chinese(ACTION_LABELS.get(a, "")))
    assert not missing, "audit actions without a label in ACTION_LABELS:\n" + "\n".join(missing)


# ---------------------------------------------------------------------------------------- pool reasons


def _unit_exclusion_codes() -> set[str]:
    """Reason codes of ``draw.plans.eligibility``: ``{"reason": …}``, ``reason = …``, ``status_reason = {…}``."""
    tree = ast.parse((WEBAPP / "draw" / "plans.py").read_text(encoding="utf-8"))
    codes: set[str] = set()

    def strings(node: ast.AST) -> set[str]:
        return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}

    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "reason":
                    codes |= strings(v)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) for t in node.targets):
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if "reason" in names:
                codes |= strings(node.value)
            if "status_reason" in names and isinstance(node.value, ast.Dict):
                codes |= {s for v in node.value.values for s in strings(v)}
    return codes


def _inspector_exclusion_codes() -> set[str]:
    """Reason codes of the inspector-pool rule: every ``reasons.append("…")`` in webapp/."""
    codes = set()
    for _path, tree in _sources():
        for call in _calls(tree, "append"):
            f = call.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "reasons":
                assert isinstance(call.args[0], ast.Constant), ast.unparse(call)
                codes.add(call.args[0].value)
    return codes


def test_every_pool_exclusion_has_a_chinese_label_and_no_label_is_dead():
    from webapp.draw.labels import EXCLUSION, INSPECTOR_EXCLUSION

    units, inspectors = _unit_exclusion_codes(), _inspector_exclusion_codes()
    assert {"closed", "zombie", "class_missing", "twice_this_year"} <= units
    assert {"cert_expired", "cert_expires_in_period", "wrong_dept"} <= inspectors
    assert units - set(EXCLUSION) == set()
    assert inspectors - set(INSPECTOR_EXCLUSION) == set()
    assert set(EXCLUSION) - units == set(), "labels of unit exclusion codes nothing emits"
    assert set(INSPECTOR_EXCLUSION) - inspectors == set(), "labels of inspector exclusion codes nothing emits"
    assert all(_chinese(v) for v in [*EXCLUSION.values(), *INSPECTOR_EXCLUSION.values()])


# ------------------------------------------------------------------------------------------- English


def test_every_label_has_an_english_translation():
    """The label tables above are complete in the English catalog too (the language switch shows no Chinese)."""
    from babel.messages.pofile import read_po

    with (WEBAPP / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    labels = set()
    for path in sorted(WEBAPP.rglob("labels.py")):
        mod = importlib.import_module(_module(path))
        for table in (v for v in vars(mod).values() if isinstance(v, Mapping)):
            labels |= {str(getattr(v, "_args", [v])[0]) for v in table.values() if _chinese(v)}
    missing = sorted(m for m in labels if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, "labels without an English msgstr in messages.po:\n" + "\n".join(missing)
