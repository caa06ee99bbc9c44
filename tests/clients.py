"""Test clients signed in as a user, for tests that read through the API and the pages as
several people."""

from django.test import Client
from rest_framework.test import APIClient


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
