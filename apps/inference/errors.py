"""How generation fails. Each error carries `user_message` (French, what the user reads) and
`retryable`; whoever runs the call (a job, a page) decides what to do with them, so the gateway
depends on nothing above it."""


class InferenceFailure(Exception):
    """A generation that did not happen. `retryable`: worth trying again later."""

    retryable = False

    def __init__(self, user_message: str, *, detail: str = ""):
        super().__init__(detail or user_message)
        self.user_message = user_message


class InferenceUnavailable(InferenceFailure):
    """Every route failed or is saturated; worth retrying later."""

    retryable = True

    def __init__(self, detail: str = ""):
        super().__init__(
            "Le service d'IA est momentanément indisponible ou saturé ; la demande sera relancée automatiquement.",
            detail=detail,
        )


class InferenceBusy(InferenceUnavailable):
    """No concurrency slot freed in time on any route."""


class InferenceError(InferenceFailure):
    """The server refused the request itself (too long, invalid, bad key): retrying would fail the same way."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "Le service d'IA a refusé la demande (texte trop long, demande invalide ou accès "
            "refusé) ; la relancer ne changera rien : raccourcissez-la ou contactez "
            "l'administrateur de la plateforme.",
            detail=detail,
        )


class InferenceNotConfigured(InferenceFailure):
    def __init__(self, detail: str = ""):
        super().__init__(
            "L'IA générative n'est pas configurée sur cette plateforme (INFERENCE_URL) ; "
            "l'administrateur peut l'activer.",
            detail=detail,
        )
