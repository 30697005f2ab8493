from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "apps.tenants"
    verbose_name = "Collectivités"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .grants import grant_application_role

        post_migrate.connect(grant_application_role, dispatch_uid="registre-grant-application-role")
