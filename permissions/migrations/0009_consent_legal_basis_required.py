from django.db import migrations, models


class Migration(migrations.Migration):
    """Every consent now names a provision of the list; the free-text basis is gone (the
    access log keeps the text it was written with)."""

    dependencies = [
        ("permissions", "0008_seed_legal_bases"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consent",
            name="legal_basis",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT, related_name="consents", to="permissions.legalbasis"
            ),
        ),
        migrations.RemoveField(model_name="consent", name="basis"),
    ]
