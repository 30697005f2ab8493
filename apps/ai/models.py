"""Conversations and generations. A Generation is both the audit record of a piece of work done with
the model (who, what, sources, model, tokens, outcome, for every app) and the state a page or API client
follows while it streams. The tables keep the names they had in the assistant, which created them."""

from django.conf import settings
from django.db import models

from apps.tenants.abilities import can, get_abilities
from apps.tenants.models import TenantModel


class Conversation(TenantModel):
    # None: started with an API key (integrations).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="utilisateur",
    )
    title = models.CharField("titre", max_length=200)
    collections = models.JSONField("collections interrogées", default=list, blank=True)  # ids; empty = all
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)

    class Meta:
        verbose_name = "conversation"
        verbose_name_plural = "conversations"
        db_table = "assistant_conversation"
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["authority", "user", "-updated_at"], name="conversation_user_recent")]

    def __str__(self):
        return self.title


class Generation(TenantModel):
    class Task(models.TextChoices):
        ANSWER = "answer", "Question"
        REWRITE = "rewrite", "Question reformulée"  # audited with its answer; a row of its own only if alone
        SUMMARY = "summary", "Résumé"
        KEY_POINTS = "key_points", "Points clés"
        PLAIN_LANGUAGE = "plain_language", "Reformulation en langage clair"
        COMPARE = "compare", "Comparaison"
        MINUTES = "minutes", "Compte rendu"
        EMAIL = "email", "Courriel"
        SPELLING = "spelling", "Correction"
        # Model calls made by other apps' jobs, audited here too
        EXTRACTION = "extraction", "Extraction de délibérations"
        MATIERE = "matiere", "Suggestion de matière"
        REPLY = "reply", "Réponse à un habitant"

    class Outcome(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        WAITING = "waiting", "En attente du service d'IA"
        DONE = "done", "Terminé"
        ABSTAINED = "abstained", "Pas de réponse dans les sources"
        REFUSED = "refused", "Refusé"
        FAILED = "failed", "Échec"

    class Mode(models.TextChoices):
        GENERATIVE = "generative", "IA générative"
        EXTRACTIVE = "extractive", "Extraits (sans IA générative)"

    FINISHED = (Outcome.DONE, Outcome.ABSTAINED, Outcome.REFUSED, Outcome.FAILED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="demandé par",
    )
    # Deleting a conversation keeps its generations: they are the audit log.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    task = models.CharField("tâche", max_length=20, choices=Task.choices)
    mode = models.CharField("mode", max_length=12, choices=Mode.choices, default=Mode.GENERATIVE)
    input = models.JSONField("demande", default=dict)  # question, text, document ids, instructions…
    query = models.TextField("recherche effectuée", blank=True)  # the standalone query actually searched
    template = models.CharField("modèle de consigne", max_length=60, blank=True)  # e.g. "answer.v1"
    model = models.CharField("modèle d'IA", max_length=200, blank=True)
    route = models.CharField("route d'inférence", max_length=60, blank=True)
    sources = models.JSONField("sources fournies", default=list, blank=True)
    output = models.TextField("réponse", blank=True)
    result = models.JSONField("résultat structuré", default=dict, blank=True)  # corrections, cited sources…
    confidence = models.FloatField("confiance de la recherche", null=True, blank=True)
    invalid_citations = models.JSONField("citations invalides retirées", default=list, blank=True)
    flagged = models.BooleanField("à vérifier", default=False)
    outcome = models.CharField("issue", max_length=10, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    error = models.TextField("erreur", blank=True)
    pseudonymised = models.PositiveIntegerField("données personnelles masquées", default=0)
    prompt_tokens = models.PositiveIntegerField("jetons en entrée", default=0)
    completion_tokens = models.PositiveIntegerField("jetons générés", default=0)
    tokens_estimated = models.BooleanField("jetons estimés", default=False)
    latency_ms = models.PositiveIntegerField("durée de génération (ms)", default=0)
    energy_wh = models.FloatField("énergie estimée (Wh)", default=0)
    co2_g = models.FloatField("CO₂ estimé (g)", default=0)
    rating = models.SmallIntegerField("avis", null=True, blank=True, choices=[(1, "Utile"), (-1, "Pas utile")])
    rating_reason = models.CharField("motif de l'avis", max_length=500, blank=True)
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "génération"
        verbose_name_plural = "générations"
        db_table = "assistant_generation"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["authority", "-created_at"], name="generation_authority_recent")]

    def __str__(self):
        return f"{self.get_task_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.outcome in self.FINISHED

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def public_sources(self) -> list[dict]:
        return public_sources(self.sources)

    def get_abilities(self, *, user, role: str | None) -> dict[str, bool]:
        """The role's abilities on its own generations (an API key's: those made with keys); an administrator
        reads every one, as the audit log does."""
        abilities = get_abilities(role, "generations")
        if self.user_id != (user.pk if user else None) and not can(role, "assistant", "audit"):
            return dict.fromkeys(abilities, False)
        return abilities


def public_sources(sources: list[dict]) -> list[dict]:
    """Sources as the stream and the API show them: without the passages' text."""
    return [{key: value for key, value in source.items() if key != "text"} for source in sources]
