"""Starting an SCDL import: what was received (file, URL, API records) is kept on the import, checked for
what can be refused at once (in French), and a job is queued to read, validate and write it."""

import json
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile

from apps import french
from apps.jobs.services import enqueue_job

from ..models import ScdlImport

IMPORT_JOB = "deliberations.import"
REFUSED_EXTENSIONS = {".xlsx", ".xls", ".ods", ".pdf", ".zip", ".doc", ".docx", ".odt"}


class ImportRefused(Exception):
    """The request cannot start an import (empty file, too large, no source): French message."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


def max_import_bytes() -> int:
    return settings.DELIB_IMPORT_MAX_BYTES


def start_import(
    *,
    authority,
    source: str,
    created_by=None,
    file=None,
    filename: str = "",
    url: str = "",
    records=None,
    strict: bool = False,
    publish: bool = True,
) -> ScdlImport:
    """Keep what was received (file bytes, API records as JSON, or the URL) and queue the import job."""
    content, name = _received_content(file=file, filename=filename, url=url, records=records)
    scdl_import = ScdlImport(
        authority=authority,
        source=source,
        filename=name,
        url=url,
        strict=strict,
        created_by=created_by,
        report={"publish": publish, "strict": strict},
    )
    if content is not None:
        scdl_import.file.save(PurePosixPath(name).name or "import.csv", content, save=False)
    scdl_import.save()
    job = enqueue_job(
        authority=authority,
        kind=IMPORT_JOB,
        created_by=created_by,
        params={"import_id": scdl_import.pk, "publish": publish},
    )
    ScdlImport.objects.filter(pk=scdl_import.pk).update(job=job)
    scdl_import.job = job
    return scdl_import


def _received_content(*, file, filename: str, url: str, records) -> tuple[File | None, str]:
    if records is not None:
        if not isinstance(records, list) or not records:
            raise ImportRefused("La liste « records » est vide : envoyez au moins une délibération.")
        data = json.dumps(records, ensure_ascii=False).encode()
        _check_size(len(data), "Les enregistrements envoyés")
        return ContentFile(data), filename or "enregistrements.json"
    if file is not None:
        name = PurePosixPath((filename or file.name or "import.csv").replace("\\", "/")).name
        extension = PurePosixPath(name.lower()).suffix
        if extension in REFUSED_EXTENSIONS:
            raise ImportRefused(
                f"« {name} » n'est pas un fichier CSV ou JSON : enregistrez le tableau au format "
                "CSV (séparateur virgule ou point-virgule) puis déposez-le à nouveau."
            )
        if not file.size:
            raise ImportRefused(f"« {name} » est vide.")
        _check_size(file.size, f"« {name} »")
        return file, name
    if url:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ImportRefused("L'adresse doit commencer par http:// ou https://.")
        return None, ""
    raise ImportRefused("Déposez un fichier CSV ou JSON, ou indiquez l'adresse d'un fichier CSV.")


def _check_size(size: int, what: str) -> None:
    if size > max_import_bytes():
        raise ImportRefused(
            f"{what} pèse {french.file_size(size)} : la limite est de "
            f"{french.file_size(max_import_bytes())} "
            "par import. Découpez le fichier (par année, par exemple) et importez chaque partie."
        )
