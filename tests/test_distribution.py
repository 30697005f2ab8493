"""Scale-out stays possible: what would stop Citus from distributing the tenant tables by authority_id.

docs/decisions/007-scale-out-citus.md: every tenant table (a `TenantModel`) would become a Citus table
distributed by `authority_id`; the authorities, the @ctes nomenclature and the users become reference
tables. Citus accepts a unique index on a distributed table only if it includes the distribution
column, and a foreign key between distributed tables only if it includes it on both sides; no table
but a distributed one may point at a distributed table. What breaks those rules today is listed in
BLOCKERS, and the list can only shrink: a new blocker fails, and so does an entry that is gone.

Primary keys are one blocker shared by every tenant table (`id` alone, to become `(authority_id, id)`
at the move, decision record 007); they are not listed per table, but a tenant table must keep that
shape (or already include authority_id) so the one plan fits all.

Everything is keyed by table and column names: models move between apps, their tables stay.
"""

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F, UniqueConstraint
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate

from apps.tenants.models import TenantModel

AUTHORITY = "authority_id"

# Sorted, one line per blocker. Why each one exists and how it goes: decision record 007.
BLOCKERS = frozenset(
    {
        "accounts_apikey UNIQUE (prefix)",
        "assistant_generation.conversation_id -> assistant_conversation",
        "assistant_generation.job_id -> jobs_job",
        "deliberations_deliberation.document_id -> documents_document",
        "deliberations_deliberation.last_import_id -> deliberations_scdlimport",
        "deliberations_deliberation.session_id -> deliberations_session",
        "deliberations_scdlimport.job_id -> jobs_job",
        "deliberations_session.minutes_id -> documents_document",
        "documents_chunk.collection_id -> documents_collection",
        "documents_chunk.document_id -> documents_document",
        "documents_document.collection_id -> documents_collection",
        "documents_document.job_id -> jobs_job",
    }
)

EXPRESSION = "(expression)"  # a unique key element that is not a plain column


def table_models():
    """One concrete model per table Django creates, many-to-many tables included."""
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def tenant_tables() -> set[str]:
    return {m._meta.db_table for m in table_models() if issubclass(m, TenantModel)}


def _key_element(model, element) -> str:
    """A unique key element as PostgreSQL stores it: a column (F("x"), sorted or collated, too), or an expression."""
    while isinstance(element, OrderBy | Collate):
        element = element.get_source_expressions()[0]
    if isinstance(element, str):
        return model._meta.get_field(element).column
    if isinstance(element, F):
        return model._meta.get_field(element.name).column
    return EXPRESSION


def unique_keys(model) -> list[tuple[str, ...]]:
    """The column tuples of every unique field, unique_together and UniqueConstraint (primary key aside)."""
    keys = [(field.column,) for field in model._meta.local_concrete_fields if field.unique and not field.primary_key]
    keys += [tuple(_key_element(model, name) for name in names) for names in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint):  # a conditional one too: a partial unique index
            elements = constraint.fields or constraint.expressions
            keys.append(tuple(_key_element(model, element) for element in elements))
    return keys


def foreign_keys(model) -> list[tuple[str, str]]:
    """(column, referenced table) of every foreign key that is a database constraint."""
    return [
        (field.column, field.related_model._meta.db_table)
        for field in model._meta.local_concrete_fields
        if field.is_relation and field.db_constraint
    ]


def blockers_in_models() -> set[str]:
    tenants = tenant_tables()
    found = set()
    for model in table_models():
        table = model._meta.db_table
        if table in tenants:
            found |= {f"{table} UNIQUE ({', '.join(key)})" for key in unique_keys(model) if AUTHORITY not in key}
        # Django foreign keys are one column, so never (authority_id, x): any one to a tenant table blocks,
        # from a tenant table (not co-located by key) or from any other (it could not be distributed).
        found |= {f"{table}.{column} -> {target}" for column, target in foreign_keys(model) if target in tenants}
    return found


def test_no_new_foreign_key_or_unique_constraint_blocks_distribution_by_authority():
    new = sorted(blockers_in_models() - BLOCKERS)
    assert not new, (
        "These would stop Citus from distributing the tenant tables by authority_id:\n  "
        + "\n  ".join(new)
        + "\nA unique constraint: put the authority in it, UniqueConstraint(fields=['authority', ...]). A foreign "
        "key to a tenant table: point at a reference table instead, or do without it. If it cannot be helped, add "
        "it to BLOCKERS and give the reason and the fix in docs/decisions/007-scale-out-citus.md."
    )


def test_every_listed_blocker_still_exists_so_the_list_only_shrinks():
    gone = sorted(BLOCKERS - blockers_in_models())
    assert not gone, "No longer a blocker, remove it from BLOCKERS (and from decision record 007):\n  " + "\n  ".join(
        gone
    )


def test_every_tenant_table_has_its_own_authority_id_and_an_id_primary_key():
    for model in table_models():
        if not issubclass(model, TenantModel):
            continue
        table, columns = model._meta.db_table, {field.column for field in model._meta.local_concrete_fields}
        assert AUTHORITY in columns, f"{table}: the distribution column must be in the table itself"
        pk = model._meta.pk
        pk_columns = {field.column for field in getattr(pk, "fields", None) or [pk]}
        assert pk_columns == {"id"} or AUTHORITY in pk_columns, (
            f"{table}: primary key {sorted(pk_columns)}; the move to Citus plans (authority_id, id) for every "
            "tenant table (decision record 007): keep `id`, or include authority_id"
        )


@pytest.mark.django_db
def test_the_database_catalog_shows_the_same_blockers_as_the_models():
    """What Citus itself reads: unique indexes (a raw-SQL one too) and foreign key constraints."""
    tenants = sorted(tenant_tables())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, array_agg(coalesce(a.attname, %s) ORDER BY k.position)
              FROM pg_index i
              JOIN pg_class t ON t.oid = i.indrelid
              CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, position)
              LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
             WHERE i.indisunique AND NOT i.indisprimary
               AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)
             GROUP BY i.indexrelid, t.relname
            """,
            [EXPRESSION, tenants],
        )
        found = {f"{table} UNIQUE ({', '.join(key)})" for table, key in cursor.fetchall() if AUTHORITY not in key}
        cursor.execute(
            """
            SELECT src.relname, target.relname,
                   array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.position),
                   array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, position)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.position)
              FROM pg_constraint c
              JOIN pg_class src ON src.oid = c.conrelid
              JOIN pg_class target ON target.oid = c.confrelid
             WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND target.relname = ANY(%s)
            """,
            [tenants],
        )
        for table, target, columns, target_columns in cursor.fetchall():
            co_located = table in tenants and (AUTHORITY, AUTHORITY) in zip(columns, target_columns, strict=True)
            if not co_located:
                found.add(f"{table}.{', '.join(columns)} -> {target}")
    assert found == blockers_in_models(), (
        "The catalog and the models disagree (a unique index or foreign key made in raw SQL?): declare it in the "
        "model so the list above sees it."
    )
