"""The committed .mo matches the .po: every bokmål string is what Django serves, and every
message id of the code has a bokmål text in the .po (issue 13, "language as a test")."""

import re
import shutil
import subprocess
from pathlib import Path

from django.core.management import call_command
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


# What makemessages reads (docs/ui.md): the project's Python and templates, not tests,
# the virtualenv or node_modules.
SKIPPED_DIRS = {".venv", "node_modules", ".git", "tests", "docs", "static", "__pycache__"}
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


def test_every_message_id_of_the_code_is_translated(tmp_path, monkeypatch):
    """A string marked for translation in the code or a template but never extracted (or
    left fuzzy by a merge) shows in English on a bokmål page: extract the code's message
    ids as makemessages does, into a copy of the catalogue, and find none left without a
    bokmål text."""
    root = PO.parents[3]
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=lambda folder, names: [
            name
            for name in names
            if name in SKIPPED_DIRS or ((Path(folder) / name).is_file() and Path(name).suffix not in SOURCE_SUFFIXES)
        ],
    )
    catalogue = copy / "locale" / "nb" / "LC_MESSAGES" / "django.po"
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PO, catalogue)
    monkeypatch.chdir(copy)  # makemessages writes to ./locale, the copy's
    call_command("makemessages", locale=["nb"], no_wrap=True, no_location=True, verbosity=0)
    missing = {
        flag: subprocess.run(
            ["msgattrib", flag, "--no-obsolete", "--no-wrap", str(catalogue)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for flag in ("--untranslated", "--only-fuzzy")
    }
    msgids = {flag: re.findall(r'^msgid "(.+)"$', text, re.M) for flag, text in missing.items()}
    assert msgids == {"--untranslated": [], "--only-fuzzy": []}, (
        "translate these in locale/nb/LC_MESSAGES/django.po (makemessages, then compilemessages: docs/ui.md)"
    )
