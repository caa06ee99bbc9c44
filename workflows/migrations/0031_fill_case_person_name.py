"""The cases stored before ``Case.person_name`` get their person's name: what their pages
showed until then. Backwards there is nothing to undo (``0030`` drops the column)."""

from django.db import migrations

FILL = """
UPDATE workflows_case
SET person_name = workflows_person.name
FROM workflows_person
WHERE workflows_person.id = workflows_case.person_id AND workflows_case.person_name = ''
"""


class Migration(migrations.Migration):
    dependencies = [("workflows", "0030_case_person_name")]

    operations = [migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop, elidable=True)]
