"""``Note.confirmed_at`` (h-safetynotes): a safety note (a warning) confirmed again by its
agency or the case's coordinator; its time in force runs from the latest of this, its
correction and its writing (``permissions.notes_policy``). Empty for every note until then."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0067_safety_reminders"),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
