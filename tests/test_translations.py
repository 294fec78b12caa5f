"""The English catalog is complete: every string the code and the templates mark for translation is in it and
translated, so no page shows an untranslated Chinese string to an English reader (and no msgid is stale)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("webapp/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _marked() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"trimmed": "false"}}
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_marked_string_has_an_english_translation():
    with open(ROOT / "webapp/translations/en/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = sorted(_marked() - translated)
    assert not missing, f"{len(missing)} strings without English (pybabel update, then translate): {missing[:20]}"
