"""Proposals extracted from minutes get a stable id (they were addressed by their position in the list,
which a re-run re-sorts). Data only: the proposals live in Session.proposals (JSON)."""

import secrets

from django.db import migrations


def give_ids(apps, schema_editor):
    # Every authority's sessions: row-level security applies to the table owner too (FORCE), so the
    # migration acts as platform staff for its own transaction.
    schema_editor.execute("SELECT set_config('registre.platform_staff', 'on', true)")
    session_model = apps.get_model("deliberations", "Session")
    for session in session_model.objects.using(schema_editor.connection.alias).exclude(proposals=[]):
        _assign(session.proposals)
        session.save(update_fields=["proposals"])


def _assign(proposals: list[dict]) -> None:
    """The same ids as the extraction job gives (48 random bits), unique within the session."""
    used = {p["id"] for p in proposals if p.get("id")}
    for proposal in proposals:
        if not proposal.get("id"):
            proposal["id"] = secrets.token_hex(6)
            while proposal["id"] in used:
                proposal["id"] = secrets.token_hex(6)
            used.add(proposal["id"])


class Migration(migrations.Migration):

    dependencies = [
        ("deliberations", "0002_load_nomenclature"),
    ]

    operations = [
        migrations.RunPython(give_ids, migrations.RunPython.noop),
    ]
