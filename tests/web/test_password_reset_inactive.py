"""A password-reset link sets no password on an account made inactive, and none is mailed to
one. Django's token holds the password, the last login and the address, not whether the
account is active, and its page found the user by id whatever they were: a link mailed before
the user was made inactive (they left, the account was closed after an incident) set the
password of the closed account, so the user made active again (back from leave, after the
investigation) had a password whoever held the mail had chosen."""

import re

import pytest
from django.core import mail
from django.test import Client

from workflows.jobs.worker import Worker

pytestmark = pytest.mark.django_db

NEW = "Ny-lang-setning-42"


def mailed_link(user, settings):
    settings.BROBYGGER = {**settings.BROBYGGER, "SITE_URL": "https://brobygger.kommune.example"}
    Client().post("/accounts/password_reset/", {"email": user.email})
    Worker(name="w").run(once=True)
    links = [re.search(r"https://brobygger\.kommune\.example(/accounts/reset/\S+/)", m.body) for m in mail.outbox]
    return [found.group(1) for found in links if found]


def set_password(browser, link):
    opened = browser.get(link)
    if opened.status_code != 302:
        return opened
    return browser.post(opened["Location"], {"new_password1": NEW, "new_password2": NEW})


def test_a_link_mailed_before_the_user_was_made_inactive_sets_no_password(users, settings):
    nils = users["nils"]
    (link,) = mailed_link(nils, settings)
    nils.is_active = False
    nils.save()
    answer = set_password(Client(), link)
    assert answer.status_code == 200 and "Lenken virker ikke" in answer.content.decode()
    nils.refresh_from_db()
    assert not nils.check_password(NEW)


def test_an_account_made_inactive_between_the_form_and_its_post_keeps_its_password(users, settings):
    nils = users["nils"]
    (link,) = mailed_link(nils, settings)
    browser = Client()
    form = browser.get(link)
    assert form.status_code == 302
    type(nils).objects.filter(pk=nils.pk).update(is_active=False)  # a bulk update: no signal
    answer = browser.post(form["Location"], {"new_password1": NEW, "new_password2": NEW})
    assert answer.status_code == 200 and "Lenken virker ikke" in answer.content.decode()
    nils.refresh_from_db()
    assert not nils.check_password(NEW)


def test_no_link_is_mailed_to_an_inactive_account(users, settings):
    nils = users["nils"]
    type(nils).objects.filter(pk=nils.pk).update(is_active=False)
    assert mailed_link(nils, settings) == [] and mail.outbox == []


def test_a_link_mailed_before_the_user_was_made_inactive_stays_dead_once_they_are_active_again(users, settings):
    """Made inactive, then active again within the link's three days (back from leave, the
    investigation over): the link mailed before worked again, Django's token holding nothing
    a deactivation changes, and whoever held the mail chose the password. A link mailed
    after the reactivation works."""
    nils = users["nils"]
    (link,) = mailed_link(nils, settings)
    nils.is_active = False
    nils.save()
    nils.is_active = True
    nils.save()

    answer = set_password(Client(), link)

    assert answer.status_code == 200 and "Lenken virker ikke" in answer.content.decode()
    nils.refresh_from_db()
    assert not nils.check_password(NEW)
    mail.outbox.clear()
    (fresh,) = mailed_link(nils, settings)
    assert set_password(Client(), fresh).status_code == 302
    nils.refresh_from_db()
    assert nils.check_password(NEW)


@pytest.mark.parametrize("how", ["bulk update", "sql"])
def test_a_link_stays_dead_after_a_bulk_deactivation_and_reactivation(users, settings, how):
    """A deactivation made without saving the user (a bulk ``update``: a shell, a script, an
    admin action or a directory sync written that way; or plain SQL) is recorded too (a
    trigger on the user table), so the link mailed before stays dead once they are active
    again."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    nils = users["nils"]
    (link,) = mailed_link(nils, settings)
    rows = get_user_model().objects.filter(pk=nils.pk)
    if how == "sql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE auth_user SET is_active = false WHERE id = %s", [nils.pk])
            cursor.execute("UPDATE auth_user SET is_active = true WHERE id = %s", [nils.pk])
    else:
        rows.update(is_active=False)
        rows.update(is_active=True)

    answer = set_password(Client(), link)

    assert answer.status_code == 200 and "Lenken virker ikke" in answer.content.decode()
    nils.refresh_from_db()
    assert not nils.check_password(NEW)


def test_a_link_to_a_user_never_made_inactive_is_the_one_django_made(users, settings):
    """The links already mailed when this came in still work: the hash is Django's until the
    user is first made inactive."""
    from django.contrib.auth.tokens import default_token_generator

    from web.password_reset import TOKENS

    nils = users["nils"]
    token = TOKENS.make_token(nils)
    assert default_token_generator.check_token(nils, token) and TOKENS.check_token(nils, token)
    nils.is_active = False
    nils.save()
    nils.is_active = True
    nils.save()
    assert not TOKENS.check_token(nils, token)
