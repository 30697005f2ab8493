from django.contrib import admin

from apps.tenants.admin import TenantAdmin

from .models import Job


@admin.register(Job)
class JobAdmin(TenantAdmin):
    list_display = ["id", "authority", "kind", "state", "progress", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]
