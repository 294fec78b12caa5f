"""docs/import.md documents every accepted column and alias: the doc and the importer cannot drift apart."""

from pathlib import Path

from webapp.registry.inspectors.columns import INSPECTOR_COLUMNS
from webapp.registry.units.columns import UNIT_COLUMNS

DOC = (Path(__file__).parents[2] / "docs" / "import.md").read_text(encoding="utf-8")


def _rows(section: str) -> dict[str, str]:
    part = DOC.split(section, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1]
    return rows


def test_every_unit_column_and_alias_is_documented():
    rows = _rows("## Unit columns")
    for col in UNIT_COLUMNS:
        assert col.header in rows, col.header
        assert [a.strip() for a in rows[col.header].split(",") if a.strip()] == list(col.aliases), col.header


def test_every_inspector_column_and_alias_is_documented():
    rows = _rows("## Inspector columns")
    for col in INSPECTOR_COLUMNS:
        assert col.header in rows, col.header
        assert [a.strip() for a in rows[col.header].split(",") if a.strip()] == list(col.aliases), col.header
