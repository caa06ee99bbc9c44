"""Case.person_name: the person's name as the case's starter gave it, shown to the case's
readers instead of the person row's (one row per national id: its name told a starter who
typed a number whose it was). The cases already stored get their person's name
(``0031_fill_case_person_name``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflows", "0029_instance_timer_path_categories")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="person_name",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
    ]
