from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.tenants.decorators import ability_required

from . import services
from .models import Job
from .selectors import recent_jobs


@ability_required("jobs", "list")
def job_list(request):
    """All jobs; htmx refreshes the table while some are still active."""
    jobs = list(recent_jobs(limit=100))
    template = "jobs/_table.html" if request.htmx else "jobs/list.html"
    return render(request, template, {"jobs": jobs, "any_active": any(job.is_active for job in jobs)})


@ability_required("jobs", "diagnostic")
@require_POST
def start_diagnostic(request):
    services.enqueue_job(authority=request.authority, kind="platform.diagnostic", created_by=request.user)
    messages.success(request, "Diagnostic lancé : suivez son avancement ci-dessous.")
    return redirect("jobs")


@ability_required("jobs", "retry")
@require_POST
def retry(request, pk):
    job = services.retry_job(job=get_object_or_404(Job, pk=pk))
    messages.success(request, f"« {job.kind_label} » est relancé.")
    return redirect("jobs")
