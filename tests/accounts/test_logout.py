"""Signing out tells the browser to drop this site's cached pages and stored script data
(``Clear-Site-Data: "cache", "storage"``), case data among them, on a shared computer too;
not its cookies, so the device cookie that lets the user's own browser sign in while others
lock her username is kept (``core.clear_site_data``, docs/security.md)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import device_cookies

from .conftest import web_login

pytestmark = pytest.mark.django_db


def test_signing_out_clears_the_cache_and_storage_and_keeps_the_device_cookie(users):
    browser = Client()
    assert web_login(browser, "oscar").status_code == 302
    answer = browser.post(reverse("logout"))
    assert answer.status_code == 200
    assert answer["Clear-Site-Data"] == '"cache", "storage"'
    assert "cookies" not in answer["Clear-Site-Data"]
    assert device_cookies.COOKIE in browser.cookies and browser.cookies[device_cookies.COOKIE].value
    assert browser.get("/tasks/")["Location"].startswith("/accounts/login/")


def test_the_admins_sign_out_clears_them_too(django_user_model):
    browser = Client()
    browser.force_login(django_user_model.objects.create_superuser("root-admin", password="x"))
    answer = browser.post(reverse("admin:logout"))
    assert answer.status_code == 200 and answer["Clear-Site-Data"] == '"cache", "storage"'


def test_a_refused_sign_out_clears_nothing(users):
    answer = Client().get(reverse("logout"))  # a link cannot sign anyone out: POST only
    assert answer.status_code == 405 and not answer.has_header("Clear-Site-Data")
