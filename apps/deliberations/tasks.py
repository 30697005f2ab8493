"""Job kinds of the register. Each capability registers its own with `job_task`; importing them here
lets Celery's autodiscovery find them."""

from .imports import attachments, job  # noqa: F401
from .minutes import job as minutes_job  # noqa: F401
from .routing import job as routing_job  # noqa: F401
