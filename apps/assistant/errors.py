"""Requests the assistant refuses; the message is French, for the user."""

from apps.jobs.errors import JobError


class AssistantError(JobError):
    """A request refused before or while it runs."""


class ToolInputError(JobError):
    """A writing tool request that cannot be done as asked; the message is French, for the user."""
