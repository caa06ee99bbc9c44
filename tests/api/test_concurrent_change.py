"""A request whose transaction PostgreSQL rolled back for a concurrent one (a deadlock, a
serialization failure) answers 409 with ``Retry-After``, nothing saved, in the caller's
language, never a 500: over the API in its error shape, on a page as the refusal page.

The use cases take their rows in one lock order (README, "One lock order"), so no route is
known to deadlock; the service is made to fail as PostgreSQL fails it, through the error
Django wraps (``django.db.OperationalError`` caused by psycopg's, SQLSTATE 40P01 / 40001)."""

import psycopg
import pytest
from django.db import OperationalError, ProgrammingError
from django.test import Client

from workflows import selectors


def _rolled_back_by(error_class, wrapped_as=OperationalError):
    def fail(*args, **kwargs):
        try:
            raise error_class("the transaction was rolled back")
        except psycopg.Error as exc:
            raise wrapped_as(str(exc)) from exc

    return fail


@pytest.mark.parametrize("error_class", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure])
def test_the_api_answers_409_retry_after_in_bokmal(client_for, monkeypatch, error_class):
    monkeypatch.setattr(selectors, "task_view_for", _rolled_back_by(error_class))
    answer = client_for("nils").get("/api/v1/tasks/1/", HTTP_ACCEPT_LANGUAGE="nb")
    assert answer.status_code == 409
    assert answer["Retry-After"] == "1"
    assert answer.json()["code"] == "request.concurrent_change"
    assert answer.json()["detail"] == "en annen endring kom i samme øyeblikk, og denne ble ikke lagret: prøv igjen"


def test_a_page_answers_409_saying_nothing_was_saved(users, monkeypatch):
    monkeypatch.setattr(selectors, "task_view_for", _rolled_back_by(psycopg.errors.DeadlockDetected))
    client = Client()
    client.force_login(users["nils"])
    page = client.get("/tasks/1/")
    assert page.status_code == 409
    assert page["Retry-After"] == "1"
    text = page.content.decode()
    assert "Noen andre endret dette i samme øyeblikk" in text
    assert "Ingenting ble lagret. Gå tilbake og prøv igjen." in text


def test_another_database_error_is_still_a_server_error(client_for, monkeypatch):
    """Only a rollback for another's sake is the caller's to repeat: a broken statement is a
    bug, and stays a 500 with its request id."""
    monkeypatch.setattr(selectors, "task_view_for", _rolled_back_by(psycopg.errors.UndefinedColumn, ProgrammingError))
    client = client_for("nils")
    client.raise_request_exception = False
    assert client.get("/api/v1/tasks/1/").status_code == 500
