"""An access-log row's ``item`` named its object by key (``note:<key>``): notes take their keys
from one sequence over every case, so the auditor reading a case's log, who reads no note of
any case, saw between NAV's two notes the gap count the notes written meanwhile in other cases
(docs/security.md "Ids count nothing"). Now the item names it by a keyed permutation of the key
(``core.public_ids.public_item``), a kind of its own; stored as before."""

import pytest
from django.urls import reverse

from core import public_ids
from tests.api.conftest import OTHER_PERSON, PERSON, PRISON_KINDS, start
from tests.api.test_notes_api import post_note
from workflows.notes import Note

pytestmark = pytest.mark.django_db


def _notes_items_between(users, agencies, client_for, notes_elsewhere: int) -> dict:
    """NAV writes a note in the case, the health service ``notes_elsewhere`` in another case,
    NAV another note in the case; what aud's access log of the case says of NAV's notes."""
    case = start(users["kari"], "prison_release_to_housing", PERSON, agencies, PRISON_KINDS)
    elsewhere = start(users["kari"], "prison_release_to_housing", OTHER_PERSON, agencies, PRISON_KINDS)
    nils, helga = client_for("nils"), client_for("helga")
    assert post_note(nils, case).status_code == 201
    for _ in range(notes_elsewhere):
        assert post_note(helga, elsewhere, category="health").status_code == 201
    assert post_note(nils, case).status_code == 201
    rows = client_for("aud").get(reverse("api-case-access-log", args=[case.pk])).json()["results"]
    items = [row["item"] for row in rows if row["item"].startswith("note:")]
    keys = sorted(Note.objects.filter(case=case).values_list("pk", flat=True))
    return {"shown": sorted(int(item.partition(":")[2]) for item in items), "keys": keys, "case": case}


def test_the_access_log_s_note_items_count_no_notes_elsewhere(users, agencies, client_for, shipped):
    quiet = _notes_items_between(users, agencies, client_for, 0)
    busy = _notes_items_between(users, agencies, client_for, 3)
    # The auditor reads no note: not the case's, not any.
    assert client_for("aud").get(reverse("api-case-notes", args=[quiet["case"].pk])).status_code in (403, 404)
    # NAV's two notes are in the log both times; their keys count the notes written between them elsewhere ...
    assert len(quiet["shown"]) == len(busy["shown"]) == 2
    assert quiet["keys"][1] - quiet["keys"][0] != busy["keys"][1] - busy["keys"][0]
    # ... the items the auditor is shown name neither key, and count nothing.
    for seen in (quiet, busy):
        assert not set(seen["shown"]) & set(Note.objects.values_list("pk", flat=True))
        assert abs(seen["shown"][1] - seen["shown"][0]) > 2**20, seen
        assert seen["shown"] == sorted(public_ids.encode("note", key) for key in seen["keys"])


@pytest.mark.parametrize(
    ("stored", "kind"),
    [
        ("note:17", "note"),
        ("attachment:17", "attachment"),
        ("correction:17", "correction"),
        ("service-task:17", "job"),
        ("external-task:17", "job"),
        ("message:17", "message"),
        ("archive-export:17", "export"),
        ("archive-folder:17", "export"),
        ("archive-delivery:17", "export"),
    ],
)
def test_an_item_naming_a_row_by_key_is_shown_by_its_kind_s_public_id(stored, kind):
    name = stored.partition(":")[0]
    assert public_ids.public_item(stored) == f"{name}:{public_ids.encode(kind, 17)}" != stored


@pytest.mark.parametrize("kept", ["notes", "attachments", "agency:3", "access-log", "note:", "note:1x", "note:²", ""])
def test_an_item_naming_no_row_by_key_is_shown_as_it_is(kept):
    assert public_ids.public_item(kept) == kept


def test_every_item_written_with_a_key_is_shown_by_public_id():
    """A new kind of item written by key (``item=f"<name>:{row.pk}"``) is shown by public id too,
    or named here as kept (an agency: an admin-kept list, made by no case)."""
    import re

    from tests.conftest import REPO

    written = set()
    for path in REPO.rglob("*.py"):
        if {".venv", "node_modules", "tests"} & set(path.relative_to(REPO).parts):
            continue
        written |= set(re.findall(r'item=f"([a-z-]+):\{', path.read_text(encoding="utf-8")))
    assert written >= {"note", "correction", "service-task", "message"}
    assert written - set(public_ids.ITEMS) == {"agency"}
