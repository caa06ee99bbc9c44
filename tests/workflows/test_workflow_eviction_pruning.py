"""Eviction rows (``WorkflowEviction``) are pruned by the writer once older than
``EVICTIONS_KEPT_FOR``, the newest of those kept, and a process whose last look is older than
the oldest row kept drops its whole cache instead of trusting what is left. Before, the rows
were never deleted: one per instance of every erased, corrected or merged case, for ever."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from bpmn.engine.workflow_cache import WorkflowCache
from workflows import steps
from workflows.models import WorkflowEviction
from workflows.steps import runner

from .helpers import start_prison_case

pytestmark = pytest.mark.django_db


def _evict(case):
    with transaction.atomic():
        steps.forget_cached_workflows([case.pk])
    return WorkflowEviction.objects.order_by("-id").values_list("id", flat=True).first()


def _age(ids, days):
    WorkflowEviction.objects.filter(id__in=ids).update(at=timezone.now() - timedelta(days=days))


def _cache_of(*keys):
    cache = WorkflowCache()
    for key in keys:
        cache.put(key, f"state {key}", SimpleNamespace(spec=object()))
    return cache


def test_the_writer_prunes_rows_older_than_any_process_needs_but_the_newest_of_them(shipped, users, agencies):
    cases = [start_prison_case(users, agencies) for _ in range(4)]
    first, second, third = (_evict(case) for case in cases[:3])
    _age([first, second, third], days=3)
    fourth = _evict(cases[3])  # writes, then prunes
    assert sorted(WorkflowEviction.objects.values_list("id", flat=True)) == [third, fourth]


def test_a_process_that_missed_pruned_rows_drops_its_whole_cache(shipped, users, agencies):
    cases = [start_prison_case(users, agencies) for _ in range(4)]
    instances = [case.instances.get().pk for case in cases]
    first = _evict(cases[0])
    # A process that looked at ``first``, idle since, keeps the other instances' workflows.
    idle = _cache_of(*instances[1:])
    idle._mark = first  # as a sync at ``first`` leaves it
    second = _evict(cases[1])
    _age([first, second], days=3)
    newest = _evict(cases[2])  # prunes ``first``; ``second`` is the oldest row kept
    assert not WorkflowEviction.objects.filter(id=first).exists()
    # ``first`` gone, whatever came after it may be gone too: all of it is dropped, the
    # instance of ``cases[3]``, never evicted, included.
    assert runner._evicted_since(first) is None
    idle.sync(newest, runner._evicted_since)
    assert len(idle) == 0

    # A process whose mark is still kept drops only what was evicted since.
    awake = _cache_of(*instances)
    awake._mark = second
    awake.sync(newest, runner._evicted_since)
    assert sorted(awake._items) == sorted(set(instances) - {instances[2]})


@pytest.mark.postgres
def test_the_pruning_finds_the_newest_old_row_on_an_index_not_by_walking_the_young_ones():
    """A day of many evictions (a bulk erasure: one row per instance) left the pruning walking
    the primary key back over every young row to find the newest old one (132 ms at 100,000).
    Its statement, EXPLAINed at 30,000 young rows, reads one entry of the index ``(at, id)``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    WorkflowEviction.objects.bulk_create(
        [WorkflowEviction(instance_id=n) for n in range(3)] + [WorkflowEviction(instance_id=n) for n in range(30_000)]
    )
    old = list(WorkflowEviction.objects.order_by("id").values_list("id", flat=True)[:3])
    _age(old, days=3)
    WorkflowEviction.objects.exclude(id__in=old).update(at=now - timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_workfloweviction")
    with CaptureQueriesContext(connection) as queries:
        runner._prune_evictions()
    (delete,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {delete}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "workflow_eviction_at" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    assert WorkflowEviction.objects.count() == 30_001  # the newest old row kept, the young ones all
