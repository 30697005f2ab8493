"""Row-level security: the database itself keeps authorities apart, whatever the ORM does."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, connections, transaction

from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import TenantModel

from .factories import JobFactory

pytestmark = pytest.mark.django_db


def count_jobs_raw():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM jobs_job")
        return cursor.fetchone()[0]


def test_application_role_is_neither_superuser_nor_bypassrls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_without_tenant_context_a_tenant_table_looks_empty_while_rows_exist(authority, other_authority):
    JobFactory.create_batch(3, authority=authority)  # committed: each factory call is its own transaction
    JobFactory.create_batch(2, authority=other_authority)
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM jobs_job")
        assert cursor.fetchone()[0] == 5  # the rows are there…

    assert count_jobs_raw() == 0  # …but the application role sees none without a context
    assert Job.objects.count() == 0
    assert Job.all_tenants.count() == 0


def test_with_a_tenant_context_raw_sql_sees_only_that_authority(authority, other_authority):
    JobFactory.create_batch(3, authority=authority)
    JobFactory.create_batch(2, authority=other_authority)
    with tenant_context(authority.pk):
        assert count_jobs_raw() == 3
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT authority_id FROM jobs_job")
            assert cursor.fetchall() == [(authority.pk,)]
    with tenant_context(other_authority.pk):
        assert count_jobs_raw() == 2
        assert Job.all_tenants.count() == 2  # even the unscoped manager is held by the database


def test_writing_a_row_for_another_authority_is_refused(authority, other_authority):
    with tenant_context(authority.pk), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Job.objects.create(authority=other_authority, kind="platform.diagnostic")


def test_moving_a_row_to_another_authority_is_refused(authority, other_authority):
    job = JobFactory(authority=authority)
    with tenant_context(authority.pk), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(authority=other_authority)


def test_nested_context_restores_the_outer_authority(authority, other_authority):
    JobFactory(authority=authority)
    with tenant_context(authority.pk):
        with tenant_context(other_authority.pk):
            assert count_jobs_raw() == 0
        assert count_jobs_raw() == 1
    assert count_jobs_raw() == 0


def test_every_tenant_table_has_forced_row_level_security_and_a_policy():
    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    assert {m._meta.model_name for m in tenant_models} >= {"membership", "apikey", "job"}
    with connection.cursor() as cursor:
        for model in tenant_models:
            table = model._meta.db_table
            cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])
            assert cursor.fetchone() == (True, True), table
            cursor.execute("SELECT count(*) FROM pg_policies WHERE tablename = %s", [table])
            assert cursor.fetchone()[0] == 1, table
