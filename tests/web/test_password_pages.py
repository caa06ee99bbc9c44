"""The password pages Django's auth URLs bring (change, reset by e-mail) are Brobygger's
pages: the site's header and layout, bokmål, fields with their labels and errors, not the
admin's look with a breadcrumb to /admin/ (issue 13: every page passes axe-core; the
admin's breadcrumb links failed link-in-text-block)."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    (None, "/accounts/password_reset/", "Tilbakestill passord"),
    (None, "/accounts/password_reset/done/", "Sjekk e-posten din"),
    (None, "/accounts/reset/MQ/set-password/", "Lenken virker ikke"),
    (None, "/accounts/reset/done/", "Passordet er lagret"),
    ("nils", "/accounts/password_change/", "Endre passord"),
    ("nils", "/accounts/password_change/done/", "Passordet er endret"),
]


@pytest.mark.parametrize(("username", "path", "says"), PAGES)
def test_each_password_page_is_a_brobygger_page_in_bokmal(web, username, path, says):
    response = web(username).get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert says in html and 'class="skip"' in html  # the site's own layout
    assert "breadcrumbs" not in html and "/admin/" not in html


def test_a_password_is_changed_through_the_page_and_errors_sit_by_their_fields(web, users):
    nils = web("nils")
    wrong = nils.post(
        "/accounts/password_change/",
        {"old_password": "not-it", "new_password1": "Ny-lang-setning-42", "new_password2": "Ny-lang-setning-42"},
    )
    html = wrong.content.decode()
    assert wrong.status_code == 200 and "Passordet er ikke endret" in html
    assert 'id="id_old_password_error"' in html and 'for="id_old_password"' in html
    changed = nils.post(
        "/accounts/password_change/",
        {
            "old_password": "test-password",
            "new_password1": "Ny-lang-setning-42",
            "new_password2": "Ny-lang-setning-42",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == "/accounts/password_change/done/"
    users["nils"].refresh_from_db()
    assert users["nils"].check_password("Ny-lang-setning-42")
