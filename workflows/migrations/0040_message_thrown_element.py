"""A "message sent" event names the element that threw it (``element_id``), so that the
timeline leaves it out for a reader from whom the throw's gateway branch is hidden (a throw
on the branch a health value chose told that value). The events stored before name none:
filled in here from the model of their instance's version, by the message's name. A name
thrown by one element is that element. A name thrown by several is given one of them on a
gateway's branch when there is one: hiding the event from a reader who may not see that
branch is the safe side, showing it would tell the branch."""

from django.db import migrations

from bpmn.engine.gateway_paths import gateway_paths
from bpmn.engine.message_payloads import message_throwers


def thrower_for(throwers: list[str], on_branches: set[str]) -> str:
    if len(throwers) == 1:
        return throwers[0]
    branched = sorted(set(throwers) & on_branches)
    return branched[0] if branched else (sorted(throwers)[0] if throwers else "")


def fill(apps, schema_editor):
    Event = apps.get_model("workflows", "Event")
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    unnamed = Event.objects.filter(kind="message_thrown", element_id="", instance__isnull=False)
    definitions = unnamed.values_list("instance__definition_id", flat=True).distinct()
    for definition_id, bpmn_xml in ProcessDefinition.objects.filter(pk__in=definitions).values_list("pk", "bpmn_xml"):
        throwers = message_throwers(bpmn_xml)
        on_branches = {element for path in gateway_paths(bpmn_xml).values() for element in path.branch_elements}
        events = unnamed.filter(instance__definition_id=definition_id).only("pk", "detail")
        for event in events.iterator():
            element_id = thrower_for(throwers.get((event.detail or {}).get("name") or "", []), on_branches)
            if element_id:
                Event.objects.filter(pk=event.pk).update(element_id=element_id)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0039_external_task_key"), ("bpmn", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
