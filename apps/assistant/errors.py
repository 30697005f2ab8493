"""Requests the assistant refuses; the message is French, for the user."""

from apps.jobs.errors import JobError

QUOTA_MESSAGE = ("Le quota mensuel d'IA de votre collectivité ({quota} jetons) est atteint. Il sera renouvelé "
                 "le 1er du mois prochain ; un administrateur de la plateforme peut l'augmenter.")


class AssistantError(JobError):
    """A request refused before or while it runs."""


class QuotaExceeded(AssistantError):
    def __init__(self, quota: int):
        super().__init__(QUOTA_MESSAGE.format(quota=f"{quota:,}".replace(",", " ")))
