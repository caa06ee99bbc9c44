"""A web process sets its garbage collector for serving once its views are imported
(``ops.gunicorn_conf.post_worker_init``): what it imported frozen out of the collector's
walks, and young collections less often (README "Production server")."""

import gc

import pytest

from ops import gunicorn_conf


@pytest.fixture
def collector():
    """The test process's collector as it was, afterwards."""
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_web_process_freezes_what_it_imported_and_raises_the_young_threshold(collector, monkeypatch):
    monkeypatch.delenv("WEB_GC_THRESHOLD", raising=False)
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)

    gunicorn_conf.post_worker_init(worker=None)

    assert gc.get_freeze_count() > 10_000  # Django, the apps and their models: out of every collection's walk
    assert gc.get_threshold() == (5000, 10, 10)
    assert gc.isenabled()  # the cycles each request leaves are still collected as it serves


def test_the_threshold_comes_from_the_environment_and_0_keeps_python_s(collector, monkeypatch):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("WEB_GC_THRESHOLD", "0")
    gunicorn_conf.post_worker_init(worker=None)
    assert gc.get_threshold() == (700, 10, 10)

    monkeypatch.setenv("WEB_GC_THRESHOLD", "12000")
    gunicorn_conf.post_worker_init(worker=None)
    assert gc.get_threshold() == (12000, 10, 10)
