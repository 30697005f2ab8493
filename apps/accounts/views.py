from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.tenants.decorators import ability_required

from . import services
from .forms import ApiKeyForm
from .models import ApiKey


@ability_required("api_keys", "create")
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = services.create_api_key(authority=request.authority, created_by=request.user, **form.cleaned_data)
        form = ApiKeyForm()
    return render(
        request,
        "accounts/api_keys.html",
        {
            "form": form,
            "new_key": new_key,
            "keys": ApiKey.objects.select_related("created_by"),
        },
    )


@ability_required("api_keys", "destroy")
@require_POST
def api_key_revoke(request, pk):
    key = services.revoke_api_key(key=get_object_or_404(ApiKey, pk=pk))
    messages.success(request, f"La clé « {key.name} » est révoquée : elle ne fonctionne plus.")
    return redirect("api-keys")
