from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations
from pgvector.django import VectorExtension

from apps.tenants.rls import CreateTenantFunctions


class Migration(migrations.Migration):
    """Extensions every app relies on, and the SQL functions row-level security policies call."""

    initial = True
    dependencies = []
    operations = [
        VectorExtension(),
        TrigramExtension(),
        UnaccentExtension(),
        CreateTenantFunctions(),
    ]
