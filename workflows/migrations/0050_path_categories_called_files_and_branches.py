"""What a case's path gives away, read anew (2026-12-06): a call activity holds what the
process it calls does, in the model's file or in a file deployed with it, and a looped
sub-process or call activity hides what is inside it (``gateway_paths.with_called``,
``loop_paths``). And a name set on a gateway's, timer's or loop's branch (by a script or a catch there, or inside
the process a call activity there calls) now carries what that split reads, and the scripts
of called processes in files of their own count as the model's do
(``bpmn.engine.gateway_paths.paths_and_sources``): a later gateway on ``home_found``, set to
``False`` on the branch a diagnosis chose, reads the diagnosis. The categories stored at
deploy (``metadata["path_categories"]``), the tasks' ``Task.path_categories`` and the
instances' ``timer_path_categories`` are filled in again from each version's model and
called files, as ``0041`` filled them, so that the lists across cases leave such tasks out
for a reader who may not see what chose the branch. Run again by later migrations with the
analysis as it is then (``0052``, ``0055``, ``0059``: the fields each step writes, from the
version's metadata and forms, count as a script's variables do)."""

import json
from importlib import import_module

from django.db import migrations

from bpmn.engine.gateway_paths import element_writes, paths_and_sources, timer_elements, timer_reads, with_called
from bpmn.registry import called_texts, timer_mask
from permissions.rules import path_categories, path_mask


def fill(apps, schema_editor):
    shared_of = import_module("workflows.migrations.0041_path_categories_messages_timers")._shared
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    Task = apps.get_model("workflows", "Task")
    rows = ProcessDefinition.objects.values_list("pk", "bpmn_xml", "metadata", "forms_json", "called_json")
    for definition_id, bpmn_xml, metadata, forms_json, called_json in rows.iterator():
        metadata = metadata or {}
        fields = metadata.get("fields") or {}
        shared = shared_of(forms_json, fields)
        model = with_called(bpmn_xml, called_texts(called_json))
        forms = json.loads(forms_json or "{}")
        writes = element_writes(
            model,
            metadata.get("user_tasks") or {},
            forms,
            metadata.get("message_rules") or {},
            metadata.get("service_tasks") or {},
        )
        splits, sources = paths_and_sources(model, shared, writes)
        found = path_categories(splits, fields)
        before = metadata.get("path_categories") or {}
        if found != before:
            ProcessDefinition.objects.filter(pk=definition_id).update(metadata={**metadata, "path_categories": found})
        old_masks = {element: path_mask(categories) for element, categories in before.items()}
        new_masks = {element: path_mask(categories) for element, categories in found.items()}
        for element_id in set(old_masks) | set(new_masks):
            mask = new_masks.get(element_id, 0)
            if mask != old_masks.get(element_id, 0):
                Task.objects.filter(instance__definition_id=definition_id, element_id=element_id).update(
                    path_categories=mask
                )
        mask = timer_mask(new_masks, timer_elements(model), timer_reads(model, sources), fields, shared)
        ProcessInstance.objects.filter(definition_id=definition_id).exclude(timer_path_categories=mask).update(
            timer_path_categories=mask
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0049_job_prunable_index"), ("bpmn", "0004_called_files")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
