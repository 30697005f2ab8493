"""Drafting a reply to a citizen, as the generation job runs it: the message (pseudonymised by the governed
call, the sender's identity never included), grounded on the authority's documents (cited, each citation
checked) and on its most similar validated replies (for tone). Offline, the most similar validated reply
is the draft, labelled as such."""

from apps.ai import streaming
from apps.ai.calls import Record, is_generative
from apps.ai.models import Generation, public_sources
from apps.assistant import citations
from apps.assistant.calling import ask_model
from apps.assistant.rag import passages, source_from_hit
from apps.assistant.writing.texts import unverified_numbers
from apps.tenants.context import tenant_context

from . import selectors
from .ai_share import body
from .models import Message

Outcome, Mode = Generation.Outcome, Generation.Mode
EXAMPLES = 3  # past replies shown to the model: enough for tone, few enough to leave room for sources
EXAMPLE_CHARS = 1_500
QUERY_CHARS = 1_000  # the start of a message says what it is about; the search needs no more
NO_EXAMPLE_OFFLINE = (
    "Le service d'IA n'est pas disponible et aucune réponse déjà validée ne ressemble à ce message : "
    "rédigez la réponse vous-même."
)


def search_query(message: Message) -> str:
    return f"{message.subject}. {message.body}"[:QUERY_CHARS]


def _sources(message: Message, query: str) -> list[dict]:
    with tenant_context(message.authority_id):
        hits = passages(message.authority_id, query)
    return [source_from_hit(n, hit) for n, hit in enumerate(hits, start=1)]


def signature(message: Message) -> str:
    if message.service_id and message.service.signature:
        return message.service.signature
    return f"Le service {message.service.name}" if message.service_id else "Le secrétariat de mairie"


def draft_reply(generation: Generation, record: Record) -> dict:
    """The generation's fields for the draft of `generation.input["message_id"]`."""
    with tenant_context(generation.authority_id):
        message = Message.objects.select_related("service").get(pk=generation.input["message_id"])
        examples = selectors.similar_replies(message, limit=EXAMPLES)
    example_ids = [example.message_id for example in examples]
    if not is_generative():
        return _offline_draft(examples)
    streaming.publish(generation.pk, "status", {"outcome": Outcome.RUNNING, "message": "Recherche dans vos documents…"})
    query = search_query(message)
    sources = _sources(message, query)
    streaming.publish(generation.pk, "sources", {"query": query, "sources": public_sources(sources)})
    context = {
        "subject": message.subject,
        "message": message.body,
        "service": message.service.name if message.service_id else "",
        "signature": signature(message),
        "examples": [
            {"message": example.message.body[:EXAMPLE_CHARS], "reply": example.text[:EXAMPLE_CHARS]}
            for example in examples
        ],
        "sources": [{"n": s["n"], "title": s["title"], "page": s["page"], "text": s["text"]} for s in sources],
    }
    text = ask_model(record, generation.task, "reply", context, max_tokens=900)
    checked = citations.check(text, len(sources))
    by_number = {s["n"]: s for s in sources}
    result = {
        "examples": example_ids,
        "cited": [{"n": n, "quote": citations.quote_for(by_number[n]["text"], checked.text)} for n in checked.cited],
    }
    fields = {"query": query, "sources": sources, "output": checked.text, "mode": Mode.GENERATIVE, "result": result}
    known = [message.subject, message.body, *(s["text"] for s in sources), *(e.text for e in examples)]
    if numbers := unverified_numbers(checked.text, *known):
        result["unverified_numbers"] = numbers
        result["warning"] = "Certains chiffres n'apparaissent dans aucune source : vérifiez-les avant l'envoi."
    fields["flagged"] = bool(checked.invalid or numbers)
    fields["invalid_citations"] = checked.invalid
    return fields


def _offline_draft(examples: list) -> dict:
    if not examples:
        return {"output": "", "outcome": Outcome.ABSTAINED, "mode": Mode.EXTRACTIVE, "error": NO_EXAMPLE_OFFLINE}
    example = examples[0]
    return {
        # Without its greeting and signature: they name another citizen.
        "output": body(example.text).strip() or example.text,
        "mode": Mode.EXTRACTIVE,
        "result": {
            "offline": True,
            "example": {"message_id": example.message_id},
            "notice": (
                "Service d'IA indisponible : voici le corps de la réponse déjà validée la plus proche "
                f"(message n° {example.message_id}). Adaptez-la à ce message, formule d'appel et signature comprises."
            ),
        },
    }
