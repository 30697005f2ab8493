"""The text a tool works on: pasted, a document of the authority, or passages chosen in search results."""

from dataclasses import dataclass

from apps.ai.models import Generation
from apps.documents.models import Chunk, Document
from apps.tenants.context import tenant_context

from ..errors import ToolInputError


@dataclass(frozen=True)
class Source:
    text: str
    title: str  # what the model is told the text is, may be empty
    info: dict  # what the result says about it


def load_source(generation: Generation, data: dict) -> Source:
    """The text a summary, key points or plain-language tool works on."""
    if data.get("text"):
        return Source(data["text"], "", {"kind": "text"})
    with tenant_context(generation.authority_id):
        if data.get("document"):
            document = find_document(data["document"])
            return Source(
                document_text(document),
                document.title,
                {"kind": "document", "document_id": document.pk, "title": document.title},
            )
        ids = data.get("chunks") or []
        chunks = Chunk.objects.select_related("document").in_bulk(ids)
        if not ids or len(chunks) != len(set(ids)):
            raise ToolInputError("Passage introuvable (son document a peut-être été supprimé ou réindexé).")
        ordered = [chunks[pk] for pk in ids]
    titles = list(dict.fromkeys(chunk.document.title for chunk in ordered))
    return Source(
        "\n\n".join(chunk.text for chunk in ordered),
        "Extraits de " + ", ".join(f"« {t} »" for t in titles),
        {"kind": "chunks", "chunk_ids": ids, "documents": titles},
    )


def find_document(pk: int) -> Document:
    """Inside the generation's tenant context: another authority's document is not found."""
    if (document := Document.objects.filter(pk=pk).first()) is None:
        raise ToolInputError("Document introuvable.")
    return document


def document_text(document: Document) -> str:
    text = "\n\n".join((page.get("text") or "").strip() for page in document.pages or []).strip()
    if not text:
        if document.state in (Document.State.PENDING, Document.State.PROCESSING):
            raise ToolInputError(f"« {document.title} » est en cours d'indexation : réessayez dans quelques minutes.")
        raise ToolInputError(f"« {document.title} » ne contient pas de texte exploitable.")
    return text
