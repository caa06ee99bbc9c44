"""What a case's path gives away now counts two things more (``bpmn.engine.gateway_paths``):
what a message thrown on a gateway's branch does where it is caught (another pool of the
collaboration: its catch and what follows lie on the branch), and what a timer whose moment
is computed from case data does when it fires (``timer_paths``: the eviction process's
escalation a week before the masked eviction date). The categories stored for them at
deploy (``metadata["path_categories"]``), the tasks' ``Task.path_categories`` and the
instances' ``timer_path_categories`` are filled in again from each version's model, so that
the lists across cases leave those tasks and timers out for a reader who may not see them."""

import json

from django.db import migrations

from bpmn.engine.gateway_paths import path_splits, timer_elements, timer_reads
from bpmn.registry import timer_mask
from permissions.rules import path_categories, path_mask


def _shared(forms_json, fields) -> set[str]:
    # As ``permissions.policy.field_rules``: an x-share counts on a justice field only, the
    # field's category being the model's (``fields``), not the marking form's own.
    return {
        name
        for schema in (json.loads(forms_json or "{}") or {}).values()
        for name, prop in ((schema or {}).get("properties") or {}).items()
        if (prop or {}).get("x-share") == "participants"
        and (prop or {}).get("x-category") == "justice"
        and fields.get(name) == "justice"
    }


def fill(apps, schema_editor):
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    Task = apps.get_model("workflows", "Task")
    rows = ProcessDefinition.objects.values_list("pk", "bpmn_xml", "metadata", "forms_json")
    for definition_id, bpmn_xml, metadata, forms_json in rows.iterator():
        metadata = metadata or {}
        fields = metadata.get("fields") or {}
        shared = _shared(forms_json, fields)
        found = path_categories(path_splits(bpmn_xml, shared), fields)
        before = metadata.get("path_categories")
        if before is None:
            before = {}
        if found != before:
            ProcessDefinition.objects.filter(pk=definition_id).update(metadata={**metadata, "path_categories": found})
        old_masks = {element: path_mask(categories) for element, categories in before.items()}
        new_masks = {element: path_mask(categories) for element, categories in found.items()}
        for element_id in set(old_masks) | set(new_masks):
            mask = new_masks.get(element_id, 0)
            if mask != old_masks.get(element_id, 0) or "path_categories" not in metadata:
                Task.objects.filter(instance__definition_id=definition_id, element_id=element_id).update(
                    path_categories=mask
                )
        mask = timer_mask(new_masks, timer_elements(bpmn_xml), timer_reads(bpmn_xml), fields, shared)
        ProcessInstance.objects.filter(definition_id=definition_id).exclude(timer_path_categories=mask).update(
            timer_path_categories=mask
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0040_message_thrown_element"), ("bpmn", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
