from django.db import migrations, models


class Migration(migrations.Migration):
    """The list of named provisions, and a nullable link from each consent to one (filled by
    0008 from the old free-text ``basis``, then required by 0009)."""

    dependencies = [
        ("permissions", "0006_accesslog_item"),
    ]

    operations = [
        migrations.CreateModel(
            name="LegalBasis",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("law", models.CharField(help_text="e.g. forvaltningsloven", max_length=200, verbose_name="law")),
                (
                    "paragraph",
                    models.CharField(
                        help_text="e.g. § 13 b første ledd nr. 5", max_length=100, verbose_name="paragraph"
                    ),
                ),
                (
                    "title",
                    models.CharField(help_text="what it allows, in a few words", max_length=200, verbose_name="title"),
                ),
                (
                    "is_consent",
                    models.BooleanField(
                        default=False,
                        help_text=(
                            "the person consents: the coordinator or the agency that holds the data records it; "
                            "otherwise only the agency that holds the data may share under this provision"
                        ),
                        verbose_name="the person's consent",
                    ),
                ),
                (
                    "categories",
                    models.JSONField(
                        default=list, help_text="the data categories it covers", verbose_name="categories"
                    ),
                ),
                (
                    "agency_kinds",
                    models.JSONField(
                        default=list,
                        help_text="the kinds of agency that may receive data under it",
                        verbose_name="agency kinds",
                    ),
                ),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "active",
                    models.BooleanField(default=True, help_text="offered for new consents", verbose_name="active"),
                ),
                ("position", models.PositiveSmallIntegerField(default=100, verbose_name="position")),
            ],
            options={
                "verbose_name": "legal basis",
                "verbose_name_plural": "legal bases",
                "ordering": ["position", "law", "paragraph"],
                "constraints": [models.UniqueConstraint(fields=("law", "paragraph"), name="unique_legal_basis")],
            },
        ),
        migrations.AddField(
            model_name="consent",
            name="legal_basis",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="consents",
                to="permissions.legalbasis",
            ),
        ),
    ]
