"""What a reader is told of a case's path, for the tests that compare two cases which took
different branches: every answer and page that could show an element of the path, without
ids and times (the times are the tests' own business)."""

from tests.clients import api
from tests.clients import web as page
from workflows import selectors


def told(user, case) -> dict:
    client = api(user)
    answer = client.get(f"/api/v1/cases/{case.pk}/").json()
    timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
    diagram = client.get(f"/api/v1/cases/{case.pk}/diagram/").json()
    row = next(row for row in client.get("/api/v1/cases/").json()["results"] if row["id"] == case.pk)
    listed = [t["element_id"] for t in client.get("/api/v1/tasks/").json()["results"] if t["case"]["id"] == case.pk]
    context = page(user).get(f"/cases/{case.pk}/").context
    return {
        "open tasks": sorted(t["element_id"] for t in answer["open_tasks"]),
        "timeline": sorted((e["kind"], e.get("element_id") or "") for e in timeline),
        "diagram": (sorted(diagram["completed"]), sorted(diagram["active"])),
        "case list": (row["open_task_count"], row["next_timer_at"]),
        "task list": sorted(listed),
        "page waits for": sorted(w.element_id for w in context["waiting"]),
        "page message forms": len(context["message_forms"]),
        "page open tasks": sorted(t.element_id for t in context["view"].open_tasks),
        "page holders": len(context["holders"]),
        "path view open tasks": sorted(t.element_id for t in selectors.case_tasks_for(user, case)),
    }
