"""Conversations and generations now belong to the model-call platform (apps.ai, migration 0001), which
took over the same tables: the assistant forgets them in its state only, the database keeps them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("assistant", "0002_generation_tasks_of_other_apps"),
        ("ai", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Generation"),
                migrations.DeleteModel(name="Conversation"),
            ],
        ),
    ]
