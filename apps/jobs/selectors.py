from .models import Job


def recent_jobs(limit: int = 20):
    """The current authority's latest jobs (tenant-scoped manager)."""
    return Job.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]
