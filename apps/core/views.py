from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.jobs.selectors import recent_jobs
from apps.tenants.decorators import ability_required

from .readiness import ERROR, run_checks


@never_cache
def healthz(request):
    """The process is alive (no dependency checked)."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Dependencies answer: 200 when all do, 503 with the failing one(s) otherwise."""
    checks = run_checks()
    ready = all(check["status"] != ERROR for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)


@ability_required("authority", "retrieve")
def dashboard(request):
    jobs = list(recent_jobs(limit=10))
    return render(
        request,
        "core/dashboard.html",
        {
            "jobs": jobs,
            "any_active": any(job.is_active for job in jobs),
        },
    )
