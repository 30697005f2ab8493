from .abilities import all_abilities


def tenancy(request):
    return {
        "current_authority": getattr(request, "authority", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        # What the current role may do, for the pages' buttons: {% if abilities.documents.reindex %}.
        "abilities": all_abilities(getattr(request, "role", None)),
    }
