"""The timeline names no more of a masked attachment than the attachment list does: a
masked attachment shows no name, type or size (``AttachmentSerializer``), yet the event
"attachment added" carried its type and size to every participant. Before, the health
service read in GET /cases/<id>/timeline/ that NAV's masked economy attachment was a PNG of
so many bytes."""

from django.urls import reverse

from tests.api.test_notes_api import PNG, post_file


def _added(client, case):
    timeline = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    return [event["detail"] for event in timeline if event["kind"] == "attachment_added"]


def test_a_masked_attachments_type_and_size_are_not_in_the_timeline(client_for, prison_case):
    created = post_file(client_for("nils"), prison_case, PNG, "gjeldsordning.png", "image/png").json()
    assert created["category"] == "economy"
    (masked,) = _added(client_for("helga"), prison_case)
    assert masked == {"attachment": created["id"], "category": "economy"}
    # Who sees the attachment reads its type and size there as in the list.
    (shown,) = _added(client_for("nils"), prison_case)
    assert (shown["content_type"], shown["size"]) == ("image/png", len(PNG))


def _writers(client, case):
    timeline = client.get(reverse("api-case-timeline", args=[case.pk])).json()["results"]
    return [(event["kind"], event["actor"]) for event in timeline if event["kind"].startswith(("note_", "attachment_"))]


def test_the_timeline_names_no_writer_of_a_masked_note_or_attachment(client_for, prison_case):
    """The lists give a masked note no author and a masked attachment no uploader; the
    timeline named them beside each "note added", "corrected", "withdrawn" and "attachment
    added": the health service read there which NAV caseworker wrote about the person's debt."""
    from tests.api.test_notes_api import post_note

    nils = client_for("nils")
    note = post_note(nils, prison_case).json()
    assert note["category"] == "economy"
    note_url = f"/api/v1/cases/{prison_case.pk}/notes/{note['id']}"
    assert nils.post(f"{note_url}/correct/", {"text": "Gjeld ordnet", "version": 1}, format="json").status_code == 200
    assert nils.post(f"{note_url}/withdraw/", {}, format="json").status_code == 200
    post_file(nils, prison_case, PNG, "gjeldsordning.png", "image/png")
    kinds = ["note_added", "note_corrected", "note_withdrawn", "attachment_added"]

    # A masked note's corrections are not there at all (tests/api/test_timeline_note_corrections.py).
    masked = [kind for kind in kinds if kind != "note_corrected"]
    assert _writers(client_for("helga"), prison_case) == [(kind, None) for kind in masked]
    # Who sees the items reads who wrote them, there as in the lists.
    assert _writers(client_for("bjorn"), prison_case) == [(kind, "nils") for kind in kinds]
