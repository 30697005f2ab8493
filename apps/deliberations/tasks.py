"""Job kinds of the register. Each module registers its own with `job_task`; importing them here
lets Celery's autodiscovery find them."""

from . import attachments, importing, minutes, routing  # noqa: F401
