"""Citizens' messages and what the town hall does with them: the message, the drafts the model proposed,
the reply an agent validated and sent, and the events of the whole thread (who did what, when).

Foreign keys between tenant tables are declared without a database constraint and rebuilt in SQL as
(authority_id, x_id) → (authority_id, id) by the migration: the shape Citus accepts (decision record 007).
"""

import hashlib

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models

from apps.ai.models import Generation
from apps.documents.models import FULLTEXT_CONFIG
from apps.tenants.models import TenantModel


def body_digest(subject: str, body: str) -> str:
    """What a draft was written for: a draft whose message changed since is stale."""
    return hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()[:32]


def tenant_fk(model, *, null: bool = False, related_name: str = "+", verbose_name: str = "", on_delete=None):
    on_delete = on_delete or (models.SET_NULL if null else models.CASCADE)
    return models.ForeignKey(
        model,
        on_delete=on_delete,
        null=null,
        blank=null,
        related_name=related_name,
        db_constraint=False,
        verbose_name=verbose_name,
    )


def user_fk(verbose_name: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class Service(TenantModel):
    """A department of the town hall a message can be routed to (état civil, voirie, scolaire…)."""

    name = models.CharField("nom", max_length=120)
    signature = models.CharField("signature des réponses", max_length=200, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "service"
        verbose_name_plural = "services"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "name"], name="inbox_service_unique_name"),
            models.UniqueConstraint(fields=["authority", "id"], name="inbox_service_authority_id"),
        ]

    def __str__(self):
        return self.name


class Message(TenantModel):
    class State(models.TextChoices):
        NEW = "new", "Nouveau"
        IN_PROGRESS = "in_progress", "En cours"
        DRAFTED = "drafted", "Brouillon"
        REPLIED = "replied", "Répondu"
        CLOSED = "closed", "Clos"

    class Channel(models.TextChoices):
        FORM = "form", "Formulaire du site"
        API = "api", "Formulaire ou messagerie de la collectivité (API)"
        CHATBOT = "chatbot", "Relais de l'assistant du site"

    OPEN_STATES = (State.NEW, State.IN_PROGRESS, State.DRAFTED)

    channel = models.CharField("canal", max_length=20, choices=Channel.choices, default=Channel.FORM)
    external_id = models.CharField("identifiant externe", max_length=200, blank=True)
    sender_name = models.CharField("nom", max_length=200)
    sender_email = models.EmailField("adresse électronique", max_length=254)
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("message")
    service = tenant_fk(Service, null=True, related_name="messages", verbose_name="service")
    consent_publication = models.BooleanField("accepte la publication anonyme de la réponse", default=False)
    state = models.CharField("état", max_length=20, choices=State.choices, default=State.NEW)
    assigned_to = user_fk("agent chargé")
    due_on = models.DateField("à traiter avant le")
    received_at = models.DateTimeField("reçu le", auto_now_add=True)
    replied_at = models.DateTimeField("répondu le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)
    # The agent's reply in progress, and the draft last inserted into it (what the AI share compares).
    working_text = models.TextField("réponse en cours", blank=True)
    working_draft = models.ForeignKey(
        "Draft", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    # What a new message is compared with to find the validated replies most like it.
    search_vector = models.GeneratedField(
        expression=SearchVector("subject", weight="A", config=FULLTEXT_CONFIG)
        + SearchVector("body", weight="B", config=FULLTEXT_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "id"], name="inbox_message_authority_id"),
            models.UniqueConstraint(
                fields=["authority", "external_id"],
                condition=~models.Q(external_id=""),
                name="inbox_message_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["authority", "state", "due_on"], name="inbox_message_state_due"),
            models.Index(fields=["authority", "sender_email"], name="inbox_message_sender"),
            models.Index(fields=["authority", "closed_at"], name="inbox_message_closed"),
            GinIndex(fields=["search_vector"], name="inbox_message_search_vector"),
        ]

    def __str__(self):
        return f"n° {self.pk} — {self.subject}"

    @property
    def digest(self) -> str:
        return body_digest(self.subject, self.body)

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class Draft(TenantModel):
    """A reply the model proposed for a message (its text is its generation's output). Regenerating
    makes a new draft pointing at the one it replaces: the chain is kept, with each one's rating."""

    class Reason(models.TextChoices):
        ACCURATE = "accurate", "Exact et utilisable"
        TONE = "tone", "Ton à revoir"
        MISSING = "missing", "Informations manquantes"
        WRONG = "wrong", "Informations inexactes"
        OFF_TOPIC = "off_topic", "À côté de la demande"
        OTHER = "other", "Autre"

    message = tenant_fk(Message, related_name="drafts", verbose_name="message")
    generation = tenant_fk(Generation, null=True, verbose_name="génération")
    previous = tenant_fk("self", null=True, verbose_name="brouillon remplacé")
    digest = models.CharField("empreinte du message rédigé", max_length=32)
    created_by = user_fk("demandé par")
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    rating = models.PositiveSmallIntegerField("note de l'agent", null=True, blank=True)
    rating_reason = models.CharField("motif", max_length=20, choices=Reason.choices, blank=True)
    rating_comment = models.CharField("commentaire", max_length=500, blank=True)
    rated_by = user_fk("noté par")
    rated_at = models.DateTimeField("noté le", null=True, blank=True)

    class Meta:
        verbose_name = "brouillon"
        verbose_name_plural = "brouillons"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["authority", "id"], name="inbox_draft_authority_id")]

    def __str__(self):
        return f"Brouillon n° {self.pk}"

    @property
    def text(self) -> str:
        return self.generation.output if self.generation_id else ""

    def is_stale_for(self, message: Message) -> bool:
        return self.digest != message.digest


class Reply(TenantModel):
    """What was sent to the citizen, once an agent validated it; with the draft it came from and the AI
    share computed from both texts (both stored, with the algorithm's version, so it can be recomputed)."""

    message = tenant_fk(Message, related_name="replies", verbose_name="message")
    text = models.TextField("réponse envoyée")
    draft = tenant_fk(Draft, null=True, verbose_name="brouillon utilisé")
    draft_text = models.TextField("texte du brouillon inséré", blank=True)
    ai_share = models.PositiveSmallIntegerField("part d'IA (%)", null=True, blank=True)  # None: no draft used
    ai_share_version = models.CharField("version du calcul", max_length=20, blank=True)
    sent_by = user_fk("validée et envoyée par")
    sent_at = models.DateTimeField("envoyée le", auto_now_add=True)
    emailed_at = models.DateTimeField("courriel parti le", null=True, blank=True)  # set by the sending job
    published = models.BooleanField("publiée", default=False)
    # What the public page shows: no greeting or signature, personal data masked (publication.py).
    published_title = models.CharField("titre publié", max_length=200, blank=True)
    published_text = models.TextField("texte publié", blank=True)
    citizen_rating = models.PositiveSmallIntegerField("note de l'habitant", null=True, blank=True)
    citizen_comment = models.TextField("commentaire de l'habitant", blank=True)
    citizen_rated_at = models.DateTimeField("notée le", null=True, blank=True)

    class Meta:
        verbose_name = "réponse"
        verbose_name_plural = "réponses"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "id"], name="inbox_reply_authority_id"),
            models.UniqueConstraint(fields=["authority", "message"], name="inbox_reply_one_per_message"),
        ]
        indexes = [models.Index(fields=["authority", "published", "-sent_at"], name="inbox_reply_published")]

    def __str__(self):
        return f"Réponse au message n° {self.message_id}"

    @property
    def ai_assisted(self) -> bool:
        return bool(self.ai_share)  # None: no draft; 0: less than 5 % of it survived

    @property
    def label(self) -> str:
        return ai_label(self.ai_share)


def ai_label(share: int | None) -> str:
    """The sentence the citizen reads under the reply (Services Publics+ wording). « À 0 % » would contradict
    itself: a reply keeping less than 5 % of a draft reads as the agent's."""
    if not share:
        return "Réponse rédigée par un agent."
    return f"Cette réponse a été facilitée par l'IA à {share} %, après traitement et validation par un agent."


class Event(TenantModel):
    class Kind(models.TextChoices):
        RECEIVED = "received", "Reçu"
        ASSIGNED = "assigned", "Attribué"
        DRAFTED = "drafted", "Brouillon demandé"
        EDITED = "edited", "Réponse modifiée"
        SENT = "sent", "Réponse envoyée"
        PUBLISHED = "published", "Réponse publiée"
        DRAFT_RATED = "draft_rated", "Brouillon noté"
        RATED = "rated", "Réponse notée par l'habitant"
        CLOSED = "closed", "Clos"
        REOPENED = "reopened", "Rouvert"

    message = tenant_fk(Message, related_name="events", verbose_name="message")
    kind = models.CharField("événement", max_length=20, choices=Kind.choices)
    actor = user_fk("par")
    at = models.DateTimeField("le", auto_now_add=True)
    detail = models.JSONField("détail", default=dict, blank=True)

    class Meta:
        verbose_name = "événement"
        verbose_name_plural = "événements"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["authority", "message", "at"], name="inbox_event_message")]

    def __str__(self):
        return f"{self.get_kind_display()} — message n° {self.message_id}"
