"""How generation fails, as job errors: the French `user_message` is what the user reads, and the
transient ones make a job retry later."""

from apps.jobs.errors import JobError, TransientJobError


class InferenceUnavailable(TransientJobError):
    """Every route failed or is saturated; worth retrying later."""

    def __init__(self, detail: str = ""):
        super().__init__("Le service d'IA est momentanément indisponible ou saturé ; "
                         "la demande sera relancée automatiquement.", detail=detail)


class InferenceBusy(InferenceUnavailable):
    """No concurrency slot freed in time on any route."""


class InferenceError(JobError):
    """The server refused the request itself (too long, invalid, bad key): retrying would fail the same way."""

    def __init__(self, detail: str = ""):
        super().__init__("Le service d'IA a refusé la demande (texte trop long, demande invalide ou accès "
                         "refusé) ; la relancer ne changera rien : raccourcissez-la ou contactez "
                         "l'administrateur de la plateforme.", detail=detail)


class InferenceNotConfigured(JobError):
    def __init__(self, detail: str = ""):
        super().__init__("L'IA générative n'est pas configurée sur cette plateforme (INFERENCE_URL) ; "
                         "l'administrateur peut l'activer.", detail=detail)
