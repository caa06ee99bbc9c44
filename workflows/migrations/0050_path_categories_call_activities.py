"""A call activity now holds what the process it calls does (``bpmn.engine.gateway_paths``), and
the processes of the files deployed with a model (``called``) are read for what their path
gives away: on a branch, the called process's tasks lie on the branch too, and a gateway
inside a called file splits like the model's own; and a sub-process or call activity whose
count of instances reads data hides the tasks inside it, not only itself (``loop_paths``), as
does one an interrupting timer read from data cancels (``timer_paths``). The categories stored
at deploy, the tasks' and the instances' are filled in again for the versions with a call
activity, a loop or a sub-process, as ``0041`` filled them, so that those deployed
before leave such tasks out of the lists of a reader who may not see what the branch read,
without a new deploy."""

from django.db import migrations
from django.db.models import Q

from bpmn.engine.gateway_paths import path_splits, timer_elements, timer_reads, with_called
from bpmn.registry import called_texts, timer_mask
from permissions.rules import path_categories, path_mask


def fill(apps, schema_editor):
    from importlib import import_module

    shared_of = import_module("workflows.migrations.0041_path_categories_messages_timers")._shared
    ProcessDefinition = apps.get_model("bpmn", "ProcessDefinition")
    ProcessInstance = apps.get_model("workflows", "ProcessInstance")
    Task = apps.get_model("workflows", "Task")
    with_either = (
        Q(bpmn_xml__contains="callActivity")
        | Q(bpmn_xml__contains="LoopCharacteristics")
        | Q(bpmn_xml__contains="subProcess")
    )
    rows = ProcessDefinition.objects.filter(with_either).values_list(
        "pk", "bpmn_xml", "metadata", "forms_json", "called_json"
    )
    for definition_id, bpmn_xml, metadata, forms_json, called_json in rows.iterator():
        metadata = metadata or {}
        fields = metadata.get("fields") or {}
        shared = shared_of(forms_json, fields)
        model = with_called(bpmn_xml, called_texts(called_json))
        found = path_categories(path_splits(model, shared), fields)
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
        mask = timer_mask(new_masks, timer_elements(model), timer_reads(model), fields, shared)
        ProcessInstance.objects.filter(definition_id=definition_id).exclude(timer_path_categories=mask).update(
            timer_path_categories=mask
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0049_job_prunable_index")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
