"""The acts' PDFs: a job downloads each deliberation's DELIB_URL, stores it as a Document (indexed like
any other) and links it; a follow-up job copies the indexed text onto the deliberation. Also holds the
guarded HTTP download (size cap, timeout, no private addresses) that URL imports use too."""

import ipaddress
import logging
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.files import File
from django.db.models import Q

from apps.documents import services as documents
from apps.documents.models import Collection, Document
from apps.jobs.errors import JobError, TransientJobError
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job
from apps.tenants.models import Authority

from .models import Deliberation

logger = logging.getLogger(__name__)

FETCH_JOB = "deliberations.fetch_attachments"
TEXT_JOB = "deliberations.copy_attachment_texts"
PUBLISHED_COLLECTION = "Actes publiés"
USER_AGENT = "Registre (registre des deliberations)"  # HTTP headers are ASCII
NETWORK_DOWN_AFTER = 3  # consecutive unreachable URLs, none reached before: the network is down, retry later
MAX_NOTES = 200
# Copying waits for the indexing jobs: retried with the runner's backoff (5 s doubling, 10 min at most).
TEXT_JOB_RETRIES = 12


class DownloadError(JobError):
    """A download that will not work by trying again (404, too large, not the expected kind of file)."""


@dataclass
class Downloaded:
    path: Path
    content_type: str
    size: int
    head: bytes

    @property
    def looks_like_html(self) -> bool:
        start = self.head.lstrip()[:15].lower()
        return "html" in self.content_type or start.startswith((b"<!doctype html", b"<html"))

    @property
    def is_pdf(self) -> bool:
        return self.head.startswith(b"%PDF")


def human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} Mo" if size >= 1024 * 1024 else f"{max(size / 1024, 1):.0f} Ko"


def _timeout() -> float:
    return getattr(settings, "DELIB_FETCH_TIMEOUT_SECONDS", 30)


def _check_host(request: httpx.Request) -> None:
    """Refuse loopback, private and link-local addresses (every redirect hop too): an import must not make
    the server read its own network. Tests and closed networks lift it with DELIB_FETCH_ALLOW_PRIVATE_HOSTS."""
    if getattr(settings, "DELIB_FETCH_ALLOW_PRIVATE_HOSTS", False):
        return
    host = request.url.host
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, request.url.port or 443)}
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}", request=request) from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise DownloadError(f"L'adresse {host} désigne un réseau interne : elle n'est pas autorisée.",
                                detail=f"{host} resolves to {ip}")


def download(url: str, *, max_bytes: int, what: str, expect_pdf: bool = False) -> Downloaded:
    """Stream `url` to a temporary file (the caller deletes it). French errors; TransientJobError for what
    may work later (timeout, unreachable, 5xx)."""
    host = urlsplit(url).netloc or url
    too_large = f"{what} dépasse la limite de {human_size(max_bytes)}."
    try:
        with httpx.Client(timeout=_timeout(), follow_redirects=True, headers={"User-Agent": USER_AGENT},
                          event_hooks={"request": [_check_host]}) as client, client.stream("GET", url) as response:
            _check_status(response, host)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if expect_pdf and "html" in content_type:
                raise DownloadError("L'adresse renvoie une page web, pas le PDF de l'acte.")
            if int(response.headers.get("content-length") or 0) > max_bytes:
                raise DownloadError(too_large)
            return _stream_to_file(response, content_type, max_bytes, too_large, expect_pdf)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise DownloadError(f"Adresse invalide : {url[:200]}") from exc
    except httpx.TimeoutException as exc:
        seconds = f"{_timeout():g}".replace(".", ",")
        raise TransientJobError(f"Le serveur {host} n'a pas répondu dans les {seconds} secondes ; "
                                "nouvel essai plus tard.", detail=repr(exc)) from exc
    except httpx.TransportError as exc:
        raise TransientJobError(f"Impossible de joindre {host} (réseau ou serveur indisponible) ; nouvel essai "
                                "plus tard.", detail=repr(exc)) from exc


def download_table(url: str, *, max_bytes: int) -> tuple[Downloaded, str]:
    """An SCDL table at a URL (for imports): refused when it is a web page or a document; with a file name
    that tells CSV from JSON when the URL has none."""
    downloaded = download(url, max_bytes=max_bytes, what="Le fichier à cette adresse")
    if downloaded.looks_like_html or downloaded.is_pdf or downloaded.content_type in ("application/pdf",
                                                                                      "application/zip"):
        downloaded.path.unlink(missing_ok=True)
        raise DownloadError("L'adresse renvoie une page web ou un document, pas un fichier CSV ou JSON : indiquez "
                            "le lien direct du fichier (il se termine souvent par .csv).",
                            detail=f"content-type {downloaded.content_type!r}")
    name = PurePosixPath(urlsplit(url).path).name or "import"
    if PurePosixPath(name.lower()).suffix not in (".csv", ".json", ".txt"):
        name += ".json" if "json" in downloaded.content_type else ".csv"
    return downloaded, name[:200]


def _check_status(response: httpx.Response, host: str) -> None:
    code = response.status_code
    if code in (404, 410):
        raise DownloadError(f"Rien à cette adresse (erreur {code}) : vérifiez le lien.")
    if code == 429 or code >= 500:
        raise TransientJobError(f"Le serveur {host} est indisponible (erreur {code}) ; nouvel essai plus tard.")
    if code >= 400:
        raise DownloadError(f"Le serveur {host} refuse l'accès au fichier (erreur {code}).")


def _stream_to_file(response, content_type, max_bytes, too_large, expect_pdf) -> Downloaded:
    handle = tempfile.NamedTemporaryFile(prefix="registre-", delete=False)  # noqa: SIM115 - returned to caller
    path, size, head = Path(handle.name), 0, b""
    try:
        with handle:
            for chunk in response.iter_bytes(64 * 1024):
                if len(head) < 1024:
                    head += chunk[:1024 - len(head)]
                    if expect_pdf and len(head) >= 5 and not head.startswith(b"%PDF"):
                        raise DownloadError("Le fichier à cette adresse n'est pas un PDF.")
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(too_large)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Downloaded(path=path, content_type=content_type, size=size, head=head)


def _max_attachment_bytes() -> int:
    return getattr(settings, "DELIB_ATTACHMENT_MAX_BYTES", settings.DOCUMENT_MAX_UPLOAD_BYTES)


def _published_collection(authority) -> Collection:
    collection = Collection.objects.filter(name__iexact=PUBLISHED_COLLECTION).first()
    return collection or Collection.objects.create(
        authority=authority, name=PUBLISHED_COLLECTION, visibility=Collection.Visibility.PUBLIC,
        description="Actes publiés du registre des délibérations, récupérés à leur adresse.")


def fetch_attachments(run: JobRun) -> dict:
    """For the import's deliberations (or the given ids) that have a DELIB_URL and no document yet."""
    if not getattr(settings, "DELIB_FETCH_ATTACHMENTS", True):
        return {"message": "La récupération des actes est désactivée sur ce serveur."}
    with run.tenant():
        wanted = Deliberation.objects.filter(~Q(delib_url=""), document__isnull=True)
        if run.params.get("deliberation_ids"):
            wanted = wanted.filter(pk__in=run.params["deliberation_ids"])
        else:
            wanted = wanted.filter(last_import_id=run.params.get("import_id"))
        todo = list(wanted.order_by("pk").values_list("pk", "delib_url"))
    fetcher = _Fetcher(run)
    for position, (pk, url) in enumerate(todo, start=1):
        fetcher.attach(pk, url)
        run.progress(100 * position // (len(todo) + 1), f"{position} / {len(todo)} actes examinés")
    if fetcher.unreachable and not fetcher.reached:
        raise TransientJobError("Aucune adresse d'acte n'a pu être jointe : le réseau semble indisponible. "
                                "Le travail sera relancé plus tard.")
    if fetcher.linked:
        with run.tenant():
            enqueue_job(authority=fetcher.authority, kind=TEXT_JOB, params={"deliberation_ids": fetcher.linked})
    return fetcher.result(len(todo))


fetch_task = job_task(FETCH_JOB, "Récupération des actes (PDF)")(fetch_attachments)


class _Fetcher:
    """One download per distinct URL (a portal's generic page is often repeated on every row)."""

    def __init__(self, run: JobRun):
        self.run = run
        self.by_url: dict[str, int | str] = {}  # url -> document id, or the French note why it was skipped
        self.linked: list[int] = []
        self.notes: list[dict] = []
        self.failures = self.reached = self.unreachable = self.unreachable_in_a_row = 0
        self.authority = Authority.objects.get(pk=run.authority_id)

    def attach(self, pk: int, url: str) -> None:
        if url not in self.by_url:
            self.by_url[url] = self._fetch(pk, url)
        outcome = self.by_url[url]
        if isinstance(outcome, int):
            with self.run.tenant():
                Deliberation.objects.filter(pk=pk).update(document_id=outcome)
            self.linked.append(pk)
        else:
            self.failures += 1
            if len(self.notes) < MAX_NOTES:
                self.notes.append({"deliberation": pk, "url": url, "note": outcome})

    def _fetch(self, pk: int, url: str) -> int | str:
        try:
            downloaded = download(url, max_bytes=_max_attachment_bytes(), what="Le PDF de l'acte", expect_pdf=True)
        except TransientJobError as exc:
            self.unreachable += 1
            self.unreachable_in_a_row += 1
            if not self.reached and self.unreachable_in_a_row >= NETWORK_DOWN_AFTER:
                raise TransientJobError("Aucune adresse d'acte n'a pu être jointe : le réseau semble indisponible. "
                                        "Le travail sera relancé plus tard.", detail=exc.user_message) from exc
            return exc.user_message
        except DownloadError as exc:
            self.reached += 1
            return exc.user_message
        self.reached += 1
        self.unreachable_in_a_row = 0
        try:
            if not downloaded.is_pdf:
                return "Le fichier à cette adresse n'est pas un PDF."
            return self._store(pk, url, downloaded)
        finally:
            downloaded.path.unlink(missing_ok=True)

    def _store(self, pk: int, url: str, downloaded: Downloaded) -> int | str:
        with self.run.tenant():
            deliberation = Deliberation.objects.get(pk=pk)
            collection = (_published_collection(self.authority) if deliberation.published
                          else documents.default_collection(self.authority))
            try:
                with downloaded.path.open("rb") as handle:
                    document, _ = documents.add_document(
                        authority=self.authority, file=File(handle), filename=_pdf_name(deliberation.delib_id),
                        collection=collection, title=deliberation.objet[:300] or deliberation.delib_id,
                        kind=Document.Kind.DELIBERATION, date=deliberation.delib_date,
                        matiere=deliberation.matiere_code[:10], source="Registre (DELIB_URL)",
                        metadata={"delib_id": deliberation.delib_id, "url": url})
            except documents.UploadError as exc:
                return exc.user_message
        return document.pk

    def result(self, examined: int) -> dict:
        message = (f"{len(self.linked)} acte(s) relié(s) à leur PDF sur {examined} examiné(s)"
                   + (f" ; {self.failures} non récupéré(s) : voir le détail." if self.failures else "."))
        return {"examined": examined, "linked": len(self.linked), "skipped": self.failures,
                "downloads": len(self.by_url), "notes": self.notes, "message": message}


def _pdf_name(delib_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in delib_id).strip("._") or "acte"
    return f"deliberation-{safe[:80]}.pdf"


def copy_attachment_texts(run: JobRun) -> dict:
    """Give each deliberation the text of its indexed document (the text routing and similarity read).
    Documents still being indexed: retried later; the copy is idempotent."""
    copied, failed, waiting = 0, 0, 0
    with run.tenant():
        links = list(Deliberation.objects.filter(pk__in=run.params["deliberation_ids"], document__isnull=False)
                     .values_list("pk", "document_id"))
        documents_by_pk = Document.objects.only("pk", "state", "pages").in_bulk({d for _, d in links})
        for pk, document_id in links:
            document = documents_by_pk[document_id]
            if document.state == Document.State.INDEXED:
                text = "\n\n".join(page["text"] for page in document.pages if page.get("text"))
                copied += Deliberation.objects.filter(pk=pk).update(text=text)
            elif document.state == Document.State.FAILED:
                failed += 1
            else:
                waiting += 1
    if waiting:
        raise TransientJobError(f"{waiting} acte(s) encore en cours d'indexation : leur texte sera copié ensuite.")
    return {"copied": copied, "failed": failed,
            "message": f"Texte copié pour {copied} délibération(s)"
                       + (f" ; {failed} document(s) n'ont pas pu être indexés." if failed else ".")}


copy_texts_task = job_task(TEXT_JOB, "Texte des actes récupérés", max_retries=TEXT_JOB_RETRIES)(copy_attachment_texts)
