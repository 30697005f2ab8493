"""Migration operations that put a tenant table under PostgreSQL row-level security.

Every tenant table gets ENABLE + FORCE ROW LEVEL SECURITY (FORCE so that even a deployment that
runs the app as the table owner stays isolated) and one policy: rows of the authority named by
the transaction-local setting, or everything for platform staff in the admin.
"""

from django.db import migrations

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION registre_current_authority() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('registre.authority_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION registre_current_user() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('registre.user_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION registre_platform_staff() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('registre.platform_staff', true), '') = 'on' $$;
"""

POLICY_NAME = "tenant_isolation"


class CreateTenantFunctions(migrations.RunSQL):
    def __init__(self):
        super().__init__(
            FUNCTIONS_SQL,
            "DROP FUNCTION IF EXISTS registre_current_authority(), registre_current_user(), registre_platform_staff();",
        )


class EnableTenantRLS(migrations.operations.base.Operation):
    """Isolate a tenant table by authority. `also_visible_when` widens the policy (SQL)."""

    reversible = True

    def __init__(self, model_name: str, also_visible_when: str = ""):
        self.model_name = model_name
        self.also_visible_when = also_visible_when

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state):
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, to_state))
        condition = "authority_id = registre_current_authority() OR registre_platform_staff()"
        if self.also_visible_when:
            condition += f" OR ({self.also_visible_when})"
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(
            f"CREATE POLICY {POLICY_NAME} ON {table} USING ({condition}) "
            f"WITH CHECK (authority_id = registre_current_authority() OR registre_platform_staff())"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable row-level security on {self.model_name}"
