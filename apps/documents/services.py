"""Writes on documents: adding files (one, many, a zip), re-indexing, deleting."""

import mimetypes
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction

from apps import french
from apps.jobs.services import enqueue_job

from .extraction import SUPPORTED_EXTENSIONS
from .models import Collection, Document

INDEX_JOB = "documents.index"
DEFAULT_COLLECTION = "Documents"
# A zip is refused beyond this total once inflated: protects the disk from zip bombs.
MAX_ZIP_INFLATED_BYTES = 2 * 1024 * 1024 * 1024


class UploadError(Exception):
    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass
class UploadOutcome:
    filename: str
    document: Document | None = None
    created: bool = False
    error: str = ""


def default_collection(authority) -> Collection:
    collection = Collection.objects.filter(name__iexact=DEFAULT_COLLECTION).first()
    return collection or Collection.objects.create(authority=authority, name=DEFAULT_COLLECTION)


def check_upload(filename: str, size: int) -> None:
    extension = PurePosixPath(filename.lower()).suffix
    if extension not in SUPPORTED_EXTENSIONS:
        accepted = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise UploadError(
            f"« {filename} » : format non pris en charge ({extension or 'sans extension'}). "
            f"Formats acceptés : {accepted}."
        )
    if size == 0:
        raise UploadError(f"« {filename} » est vide.")
    if size > settings.DOCUMENT_MAX_UPLOAD_BYTES:
        raise UploadError(
            f"« {filename} » pèse {french.file_size(size)} : la limite est de "
            f"{french.file_size(settings.DOCUMENT_MAX_UPLOAD_BYTES)} par fichier."
        )


def add_document(
    *,
    authority,
    file: File,
    filename: str,
    collection: Collection | None = None,
    title: str = "",
    kind: str = Document.Kind.OTHER,
    date=None,
    matiere: str = "",
    source: str = "dépôt",
    metadata: dict | None = None,
    created_by=None,
) -> tuple[Document, bool]:
    """Store the original and queue its indexing. The same content twice gives the same document."""
    filename = PurePosixPath(filename.replace("\\", "/")).name
    check_upload(filename, file.size)
    file.seek(0)
    content_hash = Document.hash_bytes(file.chunks())
    existing = Document.objects.filter(content_hash=content_hash).first()
    if existing:
        return existing, False
    document = Document(
        authority=authority,
        collection=collection or default_collection(authority),
        title=title or PurePosixPath(filename).stem.replace("_", " ")[:300],
        kind=kind,
        date=date,
        matiere=matiere,
        source=source,
        original_filename=filename,
        size=file.size,
        content_hash=content_hash,
        mime_type=mimetypes.guess_type(filename)[0] or "",
        metadata=metadata or {},
        created_by=created_by,
    )
    file.seek(0)
    document.file.save(filename, file, save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:  # the same file uploaded twice at the same moment: keep the first
        document.file.delete(save=False)
        return Document.objects.get(content_hash=content_hash), False
    queue_indexing(document, created_by=created_by)
    return document, True


def queue_indexing(document: Document, *, created_by=None) -> None:
    job = enqueue_job(
        authority=document.authority, kind=INDEX_JOB, created_by=created_by, params={"document_id": document.pk}
    )
    Document.objects.filter(pk=document.pk).update(job=job, state=Document.State.PENDING, error="")
    document.job, document.state, document.error = job, Document.State.PENDING, ""


def add_uploads(*, authority, files, created_by=None, **fields) -> list[UploadOutcome]:
    """Several files and/or zips at once; each one succeeds or fails on its own."""
    outcomes = []
    for uploaded in files:
        name = uploaded.name
        if name.lower().endswith(".zip"):
            outcomes.extend(add_zip(authority=authority, file=uploaded, created_by=created_by, **fields))
            continue
        outcomes.append(_add_one(authority, uploaded, name, created_by, fields))
    return outcomes


def _add_one(authority, file, name, created_by, fields) -> UploadOutcome:
    try:
        with transaction.atomic():
            document, created = add_document(
                authority=authority, file=file, filename=name, created_by=created_by, **fields
            )
    except UploadError as exc:
        return UploadOutcome(filename=name, error=exc.user_message)
    return UploadOutcome(filename=name, document=document, created=created)


def add_zip(*, authority, file, created_by=None, **fields) -> list[UploadOutcome]:
    try:
        archive = zipfile.ZipFile(file)
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_hidden(m.filename)]
    except (zipfile.BadZipFile, OSError):
        return [UploadOutcome(filename=file.name, error=f"« {file.name} » n'est pas une archive zip lisible.")]
    if sum(m.file_size for m in members) > MAX_ZIP_INFLATED_BYTES:
        return [UploadOutcome(filename=file.name, error=f"« {file.name} » est trop volumineuse une fois décompressée.")]
    if len(members) > settings.DOCUMENT_MAX_FILES_PER_UPLOAD:
        return [
            UploadOutcome(
                filename=file.name,
                error=(
                    f"« {file.name} » contient {len(members)} fichiers : la limite est de "
                    f"{settings.DOCUMENT_MAX_FILES_PER_UPLOAD} par dépôt."
                ),
            )
        ]
    outcomes = []
    for member in members:
        name = PurePosixPath(member.filename).name
        try:
            check_upload(name, member.file_size)
            content = ContentFile(archive.read(member), name=name)
        except UploadError as exc:
            outcomes.append(UploadOutcome(filename=name, error=exc.user_message))
            continue
        except (zipfile.BadZipFile, OSError, RuntimeError):  # RuntimeError: encrypted member
            outcomes.append(UploadOutcome(filename=name, error=f"« {name} » est illisible dans l'archive."))
            continue
        outcomes.append(_add_one(authority, content, name, created_by, fields))
    return outcomes


def _is_hidden(path: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(path).parts)


def reindex_document(*, document: Document, created_by=None) -> Document:
    queue_indexing(document, created_by=created_by)
    return document


def delete_document(*, document: Document) -> None:
    """Chunks go with the row (cascade); the original file goes once the deletion commits."""
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name) if name else None)
