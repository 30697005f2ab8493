"""Platform staff manage authorities and their members here (the middleware gives staff on
/admin/ a row-level security context that sees every authority)."""

from django.contrib import admin

from .models import Authority, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return Membership.all_tenants.select_related("user")


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "insee_code", "population", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug", "siren", "insee_code"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        for membership in formset.save(commit=False):
            membership.authority = form.instance
            membership.save()
        for membership in formset.deleted_objects:
            membership.delete()


class TenantAdmin(admin.ModelAdmin):
    """Admin for tenant tables: the default manager is scoped, the admin sees all authorities."""

    def get_queryset(self, request):
        return self.model.all_tenants.select_related("authority")
