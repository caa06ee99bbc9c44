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
