from django.db import migrations


class Migration(migrations.Migration):
    """Keep embeddings in the table's main storage (not TOAST): an exact nearest-neighbour scan of
    a small authority then reads vectors without detoasting them (about 3x faster, bench/scale)."""

    dependencies = [("documents", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE documents_chunk ALTER COLUMN embedding SET STORAGE PLAIN",
            "ALTER TABLE documents_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL",
        ),
    ]
