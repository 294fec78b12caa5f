"""The test tree's own layout: test modules and conftests share code only through the support modules.

Model factories and scenario builders are in tests/factories.py, shared helpers in tests/helpers.py, browser
helpers in tests/e2e/browser.py and the PDF readers in tests/documents/poppler.py. No test module or conftest
imports from another test module or from a conftest (fixtures reach tests through pytest, not imports).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SUPPORT = {"tests.factories", "tests.helpers", "tests.e2e.browser", "tests.documents.poppler", "tests.draw.spec_plain"}


def _imported_modules(tree: ast.Module, package: str) -> list[tuple[int, str]]:
    """Every (line, module) a file of ``package`` imports, function-local ones included, relative ones resolved.

    ``from tests.x import name`` counts as importing ``tests.x.name`` when ``name`` is a module of tests/
    (``from tests import conftest``, ``from . import test_public``), else as importing ``tests.x``.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = _is_test_module(candidate)
                found.append((node.lineno, candidate if is_module else base))
    return sorted(set(found))


def _is_test_module(name: str) -> bool:
    if not name.startswith("tests."):
        return False
    path = TESTS.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).parent.parts)


def offending_imports() -> list[str]:
    offences = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in _imported_modules(tree, _package_of(path)):
            if (module == "tests" or module.startswith("tests.")) and module not in SUPPORT:
                offences.append(f"{path.relative_to(TESTS.parent)}:{line} imports {module}")
    return offences


def test_tests_import_shared_code_only_from_the_support_modules():
    offences = offending_imports()
    assert not offences, "import from tests.factories / tests.helpers instead:\n" + "\n".join(offences)


def test_the_check_sees_every_way_of_importing_a_test_module_or_conftest():
    source = (
        "from tests.conftest import login\n"  # 1
        "def f():\n"
        "    from tests.public.test_public import run_draw\n"  # 3
        "from tests import conftest\n"  # 4
        "from .conftest import world\n"  # 5
        "from . import test_public\n"  # 6
        "import tests.inspections.conftest\n"  # 7
        "from tests.factories import make_org\n"  # 8
        "from tests.documents import poppler\n"  # 9
        "from webapp import create_app\n"  # 10
    )
    imported = _imported_modules(ast.parse(source), "tests.public")
    assert [(line, m) for line, m in imported if m not in SUPPORT and m.startswith("tests")] == [
        (1, "tests.conftest"),
        (3, "tests.public.test_public"),
        (4, "tests.conftest"),
        (5, "tests.public.conftest"),
        (6, "tests.public.test_public"),
        (7, "tests.inspections.conftest"),
    ]
    assert (8, "tests.factories") in imported and (9, "tests.documents.poppler") in imported
