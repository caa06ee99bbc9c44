from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from api import schema  # noqa: F401 - registers the schema extensions
        from api.idempotency import forget_erased_case
        from retention.signals import case_erased

        case_erased.connect(forget_erased_case, dispatch_uid="api.forget_erased_case")
