"""CaseParticipant moves to the permissions app (a participation is an access fact).

Only Django's state changes: the table keeps its name (``workflows_caseparticipant``) and
its rows; ``permissions.0004`` takes the model over.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_jobs_messages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CaseParticipant")],
            database_operations=[],
        ),
    ]
