"""Embeddings of deliberations (objet and start of the text), shared by subject routing and similar
deliberations: what text is embedded, and computing the missing ones in batches."""

import logging
import re

from apps.documents.embeddings import get_embedder
from apps.tenants.context import current_authority_id

from .models import Deliberation

logger = logging.getLogger(__name__)
BATCH_SIZE = 32
TEXT_CHARS = 1500  # the start of the act says what it is about; e5-small reads 512 tokens at most
# "DCM 2023-0461 - ", "DEL 2022/15 :": the act's number says nothing about its subject. Two groups of
# digits are required, so that "12 rue de la Paix" or "ZAC 2" keep their words.
_ACT_NUMBER = re.compile(r"^\s*(?:[A-Z]{1,6}\s*)?(?:n[°o]\s*)?\d{2,4}[-_/ .]\d{1,5}\s*(?:[-–:.]\s*)?", re.IGNORECASE)
_CAMEL_JOIN = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Ý])")  # "ProvisionDiversiteCulturelle" (file names as objets)


def clean_objet(objet: str) -> str:
    """The objet as words: without its leading act number, underscores and glued words split."""
    text = _ACT_NUMBER.sub("", objet or "", count=1) or (objet or "")
    text = _CAMEL_JOIN.sub(" ", text.replace("_", " "))
    return " ".join(text.split())


def embedding_text_for(objet: str, text: str = "") -> str:
    """What is embedded for a deliberation. Never its matière: the embedding is used to predict it."""
    body = " ".join((text or "").split())[:TEXT_CHARS]
    objet = clean_objet(objet)
    return f"{objet}\n{body}" if body else objet


def embedding_text(deliberation: Deliberation) -> str:
    return embedding_text_for(deliberation.objet, deliberation.text)


def is_current(deliberation: Deliberation, model_id: str) -> bool:
    return deliberation.embedding is not None and deliberation.embedding_model == model_id


def ensure_embeddings(deliberations, *, on_batch=None) -> int:
    """Embed the deliberations that have no embedding or one from another model; returns how many.

    Run it in the authority's tenant context: other authorities' rows are skipped (row-level security
    would refuse the write). Each batch is written at once, so an interruption loses one batch at most.
    `on_batch(done, total)` reports progress. Whoever changes an objet or a text clears `embedding` so
    that it is recomputed.
    """
    embedder = get_embedder()
    authority_id = current_authority_id()
    # Another authority's published act is readable here but not writable: it is embedded in its own context.
    todo = [d for d in deliberations if not is_current(d, embedder.model_id) and d.authority_id == authority_id]
    for start in range(0, len(todo), BATCH_SIZE):
        batch = todo[start : start + BATCH_SIZE]
        vectors = embedder.embed_passages([embedding_text(d) for d in batch])
        for deliberation, vector in zip(batch, vectors, strict=True):
            deliberation.embedding, deliberation.embedding_model = vector, embedder.model_id
            # update(): an embedding is not an edit, updated_at stays as it was.
            Deliberation.all_tenants.filter(pk=deliberation.pk).update(
                embedding=vector, embedding_model=embedder.model_id
            )
        if on_batch:
            on_batch(start + len(batch), len(todo))
    if todo:
        logger.info("Embedded %d deliberations with %s", len(todo), embedder.model_id)
    return len(todo)
