class ApplicationRoleRouter:
    """All application queries go to "default" (the RLS-bound role); "owner" only runs migrations."""

    def db_for_read(self, model, **hints):
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True
