"""/processes/<key>/versions/<n>/migrate/: the process admin previews and moves running
cases; nobody else reaches it."""

import pytest
from django.test import Client

from tests.workflows.helpers import PERSON, open_tasks
from tests.workflows.test_version_migration import deploy
from tests.workflows.version_models import model
from workflows import services
from workflows.models import VersionMigration

URL = "/processes/versioned/versions/1/migrate/"


@pytest.fixture
def running(db, users, agencies):
    deploy(model())
    cases = [
        services.start_case(
            actor=users["nils"], process_key="versioned", person=PERSON, participants={"nav": agencies["nav"].pk}
        )
        for _ in range(2)
    ]
    return cases


def client(users, name):
    c = Client()
    c.force_login(users[name])
    return c


def test_preview_counts_the_cases_per_element_and_reason_in_bokmal(users, running):
    from tests.workflows.helpers import complete

    complete(open_tasks(running[1])[0])  # waits on Task_b now
    deploy(model(with_a=False))
    page = client(users, "ada").get(URL, HTTP_ACCEPT_LANGUAGE="nb")
    assert page.status_code == 200
    text = page.content.decode()
    assert running[0].reference not in text and running[1].reference not in text
    assert 'data-element="Task_a"' in text and 'data-element="Task_b"' in text
    assert "saken venter på Task_a, som den nye versjonen ikke har" in text
    assert '<dd data-count="cases">2</dd>' in text and "under 5" in text
    # One table, a row per standing: the case at Task_a (its element removed) and the one at
    # Task_b (which Task_a's removal keeps back as well), each counted once.
    assert text.count('data-count="row"') == 2
    assert "Venter ved" in text and "Hindringer" in text and "Hvorfor saker ikke kan flyttes" not in text


def test_admin_moves_one_case_then_all(users, running):
    deploy(model(a_name="Assess the need", with_c=True))
    ada = client(users, "ada")
    response = ada.post(URL, {"to_version": 2, "case": running[0].pk})
    assert response.status_code == 302
    assert [c.instances.get().definition.version for c in running] == [2, 1]
    response = ada.post(URL, {"to_version": 2}, follow=True)
    assert response.status_code == 200
    assert [c.instances.get().definition.version for c in running] == [2, 2]
    assert VersionMigration.objects.count() == 2


@pytest.mark.parametrize("name", ["nils", "bjorn", "aud", "oscar", "kari"])
def test_nobody_else(users, running, name):
    deploy(model(with_c=True))
    c = client(users, name)
    assert c.get(URL).status_code == 403
    assert c.post(URL, {"to_version": 2}).status_code == 403
    assert [case.instances.get().definition.version for case in running] == [1, 1]


def test_anonymous_goes_to_login(running):
    assert Client().get(URL).status_code == 302


def test_bad_target_is_said_on_the_page(users, running):
    deploy(model(with_c=True))
    response = client(users, "ada").post(URL, {"to_version": 1})
    assert response.status_code == 200
    assert VersionMigration.objects.count() == 0
