"""Errors a job can end with. The French message is what the user reads on the job.

The runner also honours any exception that carries these attributes without subclassing JobError
(`user_message`, and `retryable = True` for a transient failure), so that lower layers such as the
inference gateway need not know about jobs."""


class JobError(Exception):
    """A failure to show as is: `user_message` is French and says what to do."""

    retryable = False

    def __init__(self, user_message: str, *, detail: str = ""):
        super().__init__(detail or user_message)
        self.user_message = user_message


class TransientJobError(JobError):
    """Worth retrying later (a server down for a moment, a lock, a timeout)."""

    retryable = True
