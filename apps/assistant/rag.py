"""Answering a question from the authority's documents: rewrite a follow-up into a standalone query,
retrieve, abstain when retrieval is not confident, else ask the model to answer citing [n], and
check every citation against the passages it was actually given."""

from django.conf import settings

from apps.ai import streaming
from apps.ai.calls import Record, is_generative
from apps.ai.models import Generation, public_sources
from apps.documents.search import Hit, SearchFilters, search
from apps.tenants.context import tenant_context

from . import citations, extractive, selectors
from .calling import ask_model
from .confidence import ABSTAIN_BELOW, retrieval_confidence

Outcome = Generation.Outcome


def abstain_threshold(authority) -> float:
    own = (authority.settings or {}).get("assistant", {}).get("abstain_below")
    return float(own) if own is not None else ABSTAIN_BELOW


def source_from_hit(n: int, hit: Hit) -> dict:
    return {
        "n": n,
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "title": hit.document_title,
        "page": hit.page,
        "pages": hit.pages,
        "heading": hit.heading,
        "collection": hit.collection,
        "date": hit.date.isoformat() if hit.date else None,
        "text": hit.text,
    }


def standalone_query(question: str, history: list[dict], record: Record) -> str:
    """A follow-up ("et en 2023 ?") only makes sense with what came before."""
    if not history:
        return question
    if is_generative():
        rewritten = ask_model(
            record, "rewrite", "rewrite", {"question": question, "history": history}, stream=False, max_tokens=120
        )
        rewritten = rewritten.strip().splitlines()[0] if rewritten.strip() else ""
        if rewritten:
            return rewritten[:500]
    return f"{history[-1]['question']} {question}"  # offline: the previous question carries the topic


def passages(authority_id: int, query: str, filters: SearchFilters | None = None) -> list[Hit]:
    """The passages a model is given for `query` (call inside the authority's tenant context)."""
    return search(
        authority_id=authority_id,
        query=query,
        filters=filters or SearchFilters(),
        limit=settings.ASSISTANT_SOURCES,
        with_facets=False,
    ).hits


def retrieve(generation: Generation, query: str) -> tuple[list[dict], float]:
    filters = SearchFilters(collections=[int(c) for c in generation.input.get("collections") or []])
    with tenant_context(generation.authority_id):
        hits = passages(generation.authority_id, query, filters)
        confidence = retrieval_confidence(authority_id=generation.authority_id, query=query, hits=hits)
    return [source_from_hit(n, hit) for n, hit in enumerate(hits, start=1)], confidence


def answer_question(generation: Generation, record: Record) -> dict:
    """Fills the generation's answer fields; returns them for the caller to save."""
    question = generation.input["question"]
    with tenant_context(generation.authority_id):
        turns = selectors.history(generation)
    query = standalone_query(question, turns, record)
    sources, confidence = retrieve(generation, query)
    streaming.publish(generation.pk, "sources", {"query": query, "sources": public_sources(sources)})
    fields = {"query": query, "sources": sources, "confidence": confidence}
    if not sources or confidence < abstain_threshold(generation.authority):
        return fields | abstention(query, sources, reason="retrieval")
    if not is_generative():
        text = extractive.extractive_answer(sources, question)
        return fields | _with_citations(citations.check(text, len(sources)), sources, mode="extractive")
    given = [{"n": s["n"], "title": s["title"], "page": s["page"], "text": s["text"]} for s in sources]
    text = ask_model(
        record, "answer", "answer", {"question": question, "sources": given, "history": turns}, max_tokens=700
    )
    if citations.is_abstention(text):
        return fields | abstention(query, sources, reason="model")
    return fields | _with_citations(citations.check(text, len(sources)), sources, mode="generative")


def abstention(query: str, sources: list[dict], *, reason: str) -> dict:
    searched = sorted({s["title"] for s in sources})
    return {
        "output": citations.ABSTENTION,
        "outcome": Outcome.ABSTAINED,
        "result": {"abstained_because": reason, "searched": {"query": query, "documents": searched}},
    }


def _with_citations(checked: citations.CheckedAnswer, sources: list[dict], *, mode: str) -> dict:
    by_number = {s["n"]: s for s in sources}
    cited = [
        {"n": n, "quote": citations.quote_for(by_number[n]["text"], _sentences_citing(checked.text, n))}
        for n in checked.cited
    ]
    return {
        "output": checked.text,
        "outcome": Outcome.DONE,
        "mode": mode,
        "flagged": checked.flagged,
        "invalid_citations": checked.invalid,
        "result": {"cited": cited},
    }


def _sentences_citing(text: str, n: int) -> str:
    return " ".join(s for s in extractive.sentences(text.replace("\n", " ")) if f"[{n}]" in s) or text
