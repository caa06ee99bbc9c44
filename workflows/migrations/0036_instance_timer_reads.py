"""ProcessInstance.timer_path_categories also holds the categories of the fields a timer's
expression reads (``bpmn.engine.gateway_paths.timer_reads``): when such a timer fires is the
value moved by a known amount (the eviction process's "a week before the eviction"), so the
case lists and "today" show it only to a reader who sees them by standing. Filled in again
for the instances already stored, from their version's model; every step keeps it after."""

import json

from django.db import migrations

from bpmn.engine.gateway_paths import gateway_paths, timer_elements, timer_reads
from bpmn.registry import timer_mask
from permissions.rules import path_categories, path_mask


def fill(apps, schema_editor):
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    rows = ProcessDefinition.objects.values_list("pk", "bpmn_xml", "metadata", "forms_json")
    for definition_id, bpmn_xml, metadata, forms_json in rows:
        reads = timer_reads(bpmn_xml)
        if not reads:
            continue
        metadata = metadata or {}
        fields = metadata.get("fields") or {}
        found = metadata.get("path_categories")
        if found is None:
            found = path_categories(gateway_paths(bpmn_xml), fields)
        masks = {element: path_mask(categories) for element, categories in found.items()}
        shared = {
            name
            for schema in (json.loads(forms_json or "{}") or {}).values()
            for name, prop in ((schema or {}).get("properties") or {}).items()
            if (prop or {}).get("x-share") == "participants"
        }
        mask = timer_mask(masks, timer_elements(bpmn_xml), reads, fields, shared)
        ProcessInstance.objects.filter(definition_id=definition_id).update(timer_path_categories=mask)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0035_correlation_agency"), ("bpmn", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
