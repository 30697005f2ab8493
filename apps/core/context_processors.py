from django.conf import settings


def platform(request):
    return {
        "generative_ai_configured": bool(settings.INFERENCE_URL),
        "oidc_enabled": settings.OIDC_ENABLED,
    }
