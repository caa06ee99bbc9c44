from datetime import time

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from bpmn.engine import working_hours


class BpmnConfig(AppConfig):
    name = "bpmn"
    verbose_name = _("Process definitions")

    def ready(self):
        # The engine has no settings: it is told when timers due "in days" fall due.
        working_hours.configure(timer_working_hours())


def timer_working_hours() -> working_hours.WorkingHours | None:
    """The working hours of timers due "in days", from the settings (None when off)."""
    hour = settings.BROBYGGER["TIMER_WORKING_HOUR"]
    if hour == "off":
        return None
    return working_hours.WorkingHours(
        at=time.fromisoformat(hour),
        zone=settings.TIME_ZONE,
        skip_weekends=settings.BROBYGGER["TIMER_SKIP_WEEKENDS"],
        skip_public_holidays=settings.BROBYGGER["TIMER_SKIP_PUBLIC_HOLIDAYS"],
    )
