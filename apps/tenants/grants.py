"""Give the application role access to the tables that migrations (run as the owner) create."""

import logging

from django.db import connections

logger = logging.getLogger(__name__)


def grant_application_role(sender, using="default", **kwargs):
    """post_migrate: grant DML (never DDL, never TRUNCATE) to the role the app connects as."""
    app_role = connections["default"].settings_dict.get("USER")
    owner = connections[using]
    if not app_role or app_role == owner.settings_dict.get("USER"):
        return
    with owner.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cursor.fetchone() is None:
            logger.warning("Application role %s does not exist; skipping grants", app_role)
            return
        role = owner.ops.quote_name(app_role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
