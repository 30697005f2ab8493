from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .decorators import ability_required
from .forms import AddMemberForm, AuthoritySettingsForm, ChangeRoleForm
from .middleware import SESSION_KEY
from .models import Membership

Role = Membership.Role


@login_required
@require_POST
def switch_authority(request, slug):
    """Make another of the user's authorities the current one. Unknown or foreign → 404."""
    membership = next((m for m in request.memberships if m.authority.slug == slug), None)
    if membership is None:
        raise Http404("Collectivité inconnue")
    request.session[SESSION_KEY] = membership.authority_id
    messages.success(request, f"Vous travaillez maintenant pour : {membership.authority.name}.")
    return redirect("dashboard")


@ability_required("members", "create")
def members(request):
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = services.add_member(
            authority=request.authority,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            request=request,
        )
        messages.success(request, f"{membership.user.email} a le rôle « {membership.get_role_display()} ».")
        return redirect("members")
    memberships = Membership.objects.select_related("user").order_by("user__email")
    return render(request, "tenants/members.html", {"form": form, "memberships": memberships, "roles": Role.choices})


@ability_required("members", "update")
@require_POST
def member_update(request, pk):
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
    try:
        if "remove" in request.POST:
            services.remove_member(membership=membership)
            messages.success(request, f"{membership.user.email} n'a plus accès à la collectivité.")
        else:
            form = ChangeRoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Rôle inconnu.")
                return redirect("members")
            services.change_role(membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"Rôle de {membership.user.email} : {membership.get_role_display()}.")
    except services.LastAdministratorError as exc:
        messages.error(request, exc.message)
    return redirect("members")


@ability_required("authority", "update")
def authority_settings(request):
    form = AuthoritySettingsForm(request.POST or None, instance=request.authority)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Les informations de la collectivité sont enregistrées.")
        return redirect("authority-settings")
    return render(request, "tenants/settings.html", {"form": form})
