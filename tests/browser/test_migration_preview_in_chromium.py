"""The migration preview in counts (h-preview), in Chromium at desktop and phone size: no
axe-core violation, no English phrase, no case named."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from permissions.models import Membership, Role
from tests.workflows.helpers import PERSON, complete, open_tasks
from tests.workflows.test_version_migration import deploy
from tests.workflows.version_models import model
from workflows import services

from .conftest import PASSWORD, page_checker


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_preview_counts_in_bokmal_and_passes_axe(as_user, live_server, agencies):
    make = get_user_model().objects.create_user
    admin, worker = make("pv-browser-admin", password=PASSWORD), make("pv-browser-nav", password=PASSWORD)
    Membership.objects.create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    Membership.objects.create(user=worker, agency=agencies["nav"], role=Role.MEMBER)
    deploy(model())
    cases = [
        services.start_case(
            actor=worker, process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
        )
        for _ in range(7)
    ]
    complete(open_tasks(cases[0])[0])  # one waits on Task_b, six on Task_a
    deploy(model(with_a=False))
    visit, problems = page_checker(as_user, live_server)
    path = reverse("process-migrate", args=["versioned", 1]) + "?to_version=2"
    for phone in (False, True):
        page = visit(admin.username, path, phone=phone)
        text = page.content()
        assert "under 5" in text and "Hindringer" in text and "Venter ved" in text
        assert not any(case.reference in text for case in cases)
    assert problems == [], "\n".join(problems)
