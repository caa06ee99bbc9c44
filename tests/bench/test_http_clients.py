"""The HTTP load's clients (``bench/http``) read the real API as a client would."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue
from bench.http.cases import NATIONAL_IDS, find_in_inbox, known_open
from tests.ids import tid
from workflows.models import Task, TaskStatus
from workflows.services import start_case

pytestmark = pytest.mark.django_db

PRISON = ("prison", "nav", "health", "housing")


def test_a_task_past_the_inbox_s_first_page_is_found_by_following_next(users, agencies, shipped):
    for number in range(3):
        start_case(
            actor=users["kari"],
            process_key="prison_release_to_housing",
            person={"name": f"Person {number}", "national_id": NATIONAL_IDS[number]},
            participants={kind: agencies[kind].pk for kind in PRISON},
        )
    keys = Task.objects.filter(agency=agencies["prison"], status=TaskStatus.OPEN).values_list("id", flat=True)
    tasks = [tid(key) for key in keys]  # as the API names them
    assert len(tasks) == 3
    api, urls = APIClient(), []
    token, _expiry = issue(users["kari"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def one_row_pages(url):
        url += "" if "page_size=" in url else "&page_size=1"  # the next links keep it
        urls.append(url)
        answer = api.get(url)
        assert answer.status_code == 200, answer.content
        return answer.json()

    assert [(find_in_inbox(one_row_pages, task_id) or {}).get("id") for task_id in tasks] == tasks
    assert sum("cursor=" in url for url in urls) >= 3  # later pages were read
    assert find_in_inbox(one_row_pages, 10**9) is None  # the end of the inbox, not a loop


def test_the_clients_keep_the_parallel_tasks_a_start_listed_until_they_work_them():
    nav, health, housing, plan = ({"id": n} for n in (11, 12, 13, 14))
    known = known_open([], None, [nav, health, housing])
    known = known_open(known, nav, [])  # NAV's answer lists nothing it may not see
    assert known == [health, housing]  # no lookups: the start told of both
    known = known_open(known, health, [housing, plan])  # listed again: kept once
    assert known == [housing, plan]
    assert known_open(known_open(known, housing, []), plan, []) == []  # then the clients look


def test_the_load_starts_each_case_for_a_person_of_its_own_the_same_at_every_run():
    """Prison releases are of different people: the load's cases each have their own (with
    three people for all, each start waited for the last one's lock on the person row)."""
    from bench.http.cases import people
    from core.national_id import is_national_id

    pool = people(600)
    assert len(set(pool)) == 600
    assert all(is_national_id(number) and int(number[2:4]) > 80 for number in pool)  # synthetic: month + 80
    assert people(600) == pool
