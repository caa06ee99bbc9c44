"""``Note.safety_reminded_for`` (h-safety3): the time in force of a safety note (a warning) whose
keepers were told it lapses soon (``workflows.jobs.safety_reminders``), so that each time in
force is told of once. Empty for every note until then: a note due is told of at the next
sweep."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0068_note_confirmed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="safety_reminded_for",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
