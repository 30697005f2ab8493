def tenancy(request):
    return {
        "current_authority": getattr(request, "authority", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
    }
