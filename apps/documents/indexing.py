"""The indexing pipeline run by a worker: extract → chunk → embed → index, with progress.

Chunks are replaced in one short transaction at the end, so a worker killed midway leaves the
previous state intact and a re-run (redelivery, retry, re-index) never duplicates anything.
"""

from django.utils import timezone

from apps.jobs.errors import JobError
from apps.jobs.runner import JobRun, is_transient

from .chunking import chunk_pages
from .embeddings import get_embedder
from .extraction import extract
from .models import Chunk, Document

EMBED_BATCH = 16  # passages per progress update (the local model takes ~1 s each)
State = Document.State


def index_document(run: JobRun) -> dict:
    document_id = run.params["document_id"]
    with run.tenant():
        document = Document.objects.filter(pk=document_id).first()
        if document is None:
            raise JobError("Le document a été supprimé avant son indexation.")
        Document.objects.filter(pk=document_id).update(state=State.PROCESSING, error="")
    try:
        return _index(run, document)
    except Exception as exc:
        if is_transient(exc):  # the embedder or the database is down for a moment: retried by the runner
            raise  # the document stays « en cours »
        message = exc.user_message if isinstance(exc, JobError) else "Erreur inattendue pendant l'indexation."
        with run.tenant():
            Document.objects.filter(pk=document_id).update(state=State.FAILED, error=message)
        raise


def _index(run: JobRun, document: Document) -> dict:
    from django.conf import settings

    run.progress(5, "Extraction du texte…")
    extracted = extract(document.file.path, filename=document.original_filename, max_pages=settings.DOCUMENT_MAX_PAGES)
    run.progress(30, "Découpage en passages…")
    drafts = chunk_pages(
        [(page.number, page.text) for page in extracted.pages],
        title=document.title,
        max_tokens=settings.CHUNK_MAX_TOKENS,
        overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
    )
    if not drafts:
        raise JobError("Aucun texte exploitable dans ce document.")
    embedder = get_embedder()
    vectors = []
    for start in range(0, len(drafts), EMBED_BATCH):
        run.progress(35 + int(55 * start / len(drafts)), f"Calcul des plongements : {start} / {len(drafts)} passages")
        vectors.extend(embedder.embed_passages([embedding_text(d) for d in drafts[start : start + EMBED_BATCH]]))
    run.progress(92, "Enregistrement dans l'index…")
    with run.tenant():
        Chunk.objects.filter(document_id=document.pk).delete()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    authority_id=document.authority_id,
                    document_id=document.pk,
                    collection_id=document.collection_id,
                    position=draft.position,
                    pages=draft.pages,
                    heading=draft.heading[:500],
                    text=draft.text,
                    token_count=draft.token_count,
                    embedding=vector,
                    embedding_model=embedder.model_id,
                )
                for draft, vector in zip(drafts, vectors, strict=True)
            ],
            batch_size=500,
        )
        updates = {
            "state": State.INDEXED,
            "error": "",
            "warnings": extracted.warnings,
            "indexed_at": timezone.now(),
            "page_count": extracted.page_count or len(extracted.pages),
            "mime_type": extracted.mime_type,
            "pages": [{"number": p.number, "text": p.text} for p in extracted.pages],
        }
        Document.objects.filter(pk=document.pk).update(**updates)
    message = f"{len(drafts)} passages indexés sur {updates['page_count']} page(s)."
    if extracted.warnings:
        message += " " + " ".join(extracted.warnings)
    return {"chunks": len(drafts), "pages": updates["page_count"], "message": message[:480]}


def embedding_text(chunk) -> str:
    """What the embedder reads: the agenda item gives a passage its subject ("3. Tarifs…")."""
    if chunk.heading and not chunk.text.startswith(chunk.heading.rsplit(" › ", 1)[-1]):
        return f"{chunk.heading}\n{chunk.text}"
    return chunk.text


def reembed_outdated(run: JobRun) -> dict:
    """Re-embed this authority's chunks computed by another model (after EMBEDDINGS_* changed)."""
    embedder = get_embedder()
    with run.tenant():
        total = Chunk.objects.exclude(embedding_model=embedder.model_id).count()
    done = 0
    while True:
        with run.tenant():
            batch = list(
                Chunk.objects.exclude(embedding_model=embedder.model_id)
                .order_by("pk")
                .only("pk", "heading", "text")[: EMBED_BATCH * 4]
            )
        if not batch:
            break
        vectors = embedder.embed_passages([embedding_text(chunk) for chunk in batch])
        with run.tenant():
            for chunk, vector in zip(batch, vectors, strict=True):
                Chunk.objects.filter(pk=chunk.pk).update(embedding=vector, embedding_model=embedder.model_id)
        done += len(batch)
        run.progress(int(100 * done / max(total, 1)), f"{done} / {total} passages recalculés")
    return {"chunks": done, "message": f"{done} passages recalculés avec {embedder.model_id}."}
