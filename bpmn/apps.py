from django.apps import AppConfig


class BpmnConfig(AppConfig):
    name = "bpmn"
    verbose_name = "Process definitions"
