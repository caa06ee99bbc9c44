"""The committed .mo matches the .po: every bokmål string is what Django serves."""

from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "locale" / "nb" / "LC_MESSAGES" / "django.po"


def _entries():
    msgid = None
    for line in PO.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = line[7:-1].replace('\\"', '"')
        elif line.startswith("msgstr ") and msgid:
            yield msgid, line[8:-1].replace('\\"', '"')
            msgid = None


def test_compiled_catalog_is_up_to_date():
    entries = list(_entries())
    assert len(entries) > 150
    with translation.override("nb"):
        stale = [msgid for msgid, msgstr in entries if msgstr and translation.gettext(msgid) != msgstr]
        untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert stale == [], "run: manage.py compilemessages -l nb (see docs/ui.md)"
    assert untranslated == []
