"""A form sent back with errors, kept for the one page after the redirect, and no longer.

A form with errors is shown again after a redirect (Post/Redirect/Get: a reload of the page
then posts nothing). What was typed waits in the session meanwhile, and a consent's purpose
and note say things about the person. They were dropped only when the case page was opened
again, so a user who went elsewhere left them in the session, over any number of pages,
until it expired. ``FormDraftMiddleware`` takes them out of the session at the start of the
session's next request, whatever it asks for, and hands them to that request alone
(``taken``): the page the redirect asks for shows them; any other request drops them.
"""

from __future__ import annotations

# The session keys of such drafts.
CONSENT_FORM = "brobygger.consent_form"
DRAFT_KEYS = (CONSENT_FORM,)


class FormDraftMiddleware:
    """After ``SessionMiddleware`` (which the session refresh before it has read already: no
    statement more). Popping a key the session does not hold marks nothing to save."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        request.form_drafts = {key: session.pop(key) for key in DRAFT_KEYS if key in session}
        return self.get_response(request)


def keep(request, key: str, draft: dict) -> None:
    """Keep ``draft`` for the session's next request (the redirect's page)."""
    request.session[key] = draft


def taken(request, key: str) -> dict | None:
    """The draft this request took out of the session (``FormDraftMiddleware``), if any."""
    return getattr(request, "form_drafts", {}).get(key)
