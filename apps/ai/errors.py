"""Why a governed model call fails; the messages are French, for the user. The platform refuses a
call over the month's quota (QuotaExceeded) and passes on the gateway's failures: product code
catches them from here, never from apps.inference, which only this platform calls. Like those, it
carries `user_message` and `retryable` rather than depending on the job runner."""

from apps import french
from apps.inference.errors import InferenceFailure, InferenceNotConfigured, InferenceUnavailable

__all__ = ["InferenceFailure", "InferenceNotConfigured", "InferenceUnavailable", "QuotaExceeded"]

QUOTA_MESSAGE = (
    "Le quota mensuel d'IA de votre collectivité ({quota} jetons) est atteint. Il sera renouvelé "
    "le 1er du mois prochain ; un administrateur de la plateforme peut l'augmenter."
)


class QuotaExceeded(Exception):
    """The authority used its tokens of the month: no model call until the next month."""

    retryable = False

    def __init__(self, quota: int):
        self.quota = quota
        self.user_message = QUOTA_MESSAGE.format(quota=french.number(quota))
        super().__init__(f"monthly token quota of {quota} reached")
