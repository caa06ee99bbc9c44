"""``Attachment.confirmed_at`` and ``Attachment.safety_reminded_for`` (h-safety5): a safety
attachment (a warning) is confirmed again by its agency or the coordinator, as a safety note
is, and its keepers are reminded before it lapses, once per time in force. Empty for every
attachment until then: its time in force runs from its adding, as before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0072_case_safety_lapse_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="attachment",
            name="safety_reminded_for",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
