"""The acts' PDFs: a job downloads each deliberation's DELIB_URL, stores it as a Document (indexed like
any other) and links it; a follow-up job copies the indexed text onto the deliberation."""

import logging

from django.conf import settings
from django.core.files import File
from django.db.models import Q

from apps.documents import services as documents
from apps.documents.models import Collection, Document
from apps.jobs.errors import TransientJobError
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job
from apps.tenants.models import Authority

from ..models import Deliberation
from .downloads import Downloaded, DownloadError, download

logger = logging.getLogger(__name__)

FETCH_JOB = "deliberations.fetch_attachments"
TEXT_JOB = "deliberations.copy_attachment_texts"
PUBLISHED_COLLECTION = "Actes publiés"
NETWORK_DOWN_AFTER = 3  # consecutive unreachable URLs, none reached before: the network is down, retry later
MAX_NOTES = 200
# Copying waits for the indexing jobs: retried with the runner's backoff (5 s doubling, 10 min at most).
TEXT_JOB_RETRIES = 12


def _max_attachment_bytes() -> int:
    return settings.DELIB_ATTACHMENT_MAX_BYTES


def _published_collection(authority) -> Collection:
    collection = Collection.objects.filter(name__iexact=PUBLISHED_COLLECTION).first()
    return collection or Collection.objects.create(
        authority=authority,
        name=PUBLISHED_COLLECTION,
        visibility=Collection.Visibility.PUBLIC,
        description="Actes publiés du registre des délibérations, récupérés à leur adresse.",
    )


def fetch_attachments(run: JobRun) -> dict:
    """For the import's deliberations (or the given ids) that have a DELIB_URL and no document yet."""
    if not settings.DELIB_FETCH_ATTACHMENTS:
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
        raise TransientJobError(
            "Aucune adresse d'acte n'a pu être jointe : le réseau semble indisponible. "
            "Le travail sera relancé plus tard."
        )
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
                raise TransientJobError(
                    "Aucune adresse d'acte n'a pu être jointe : le réseau semble indisponible. "
                    "Le travail sera relancé plus tard.",
                    detail=exc.user_message,
                ) from exc
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
            collection = (
                _published_collection(self.authority)
                if deliberation.published
                else documents.default_collection(self.authority)
            )
            try:
                with downloaded.path.open("rb") as handle:
                    document, _ = documents.add_document(
                        authority=self.authority,
                        file=File(handle),
                        filename=_pdf_name(deliberation.delib_id),
                        collection=collection,
                        title=deliberation.objet[:300] or deliberation.delib_id,
                        kind=Document.Kind.DELIBERATION,
                        date=deliberation.delib_date,
                        matiere=deliberation.matiere_code[:10],
                        source="Registre (DELIB_URL)",
                        metadata={"delib_id": deliberation.delib_id, "url": url},
                    )
            except documents.UploadError as exc:
                return exc.user_message
        return document.pk

    def result(self, examined: int) -> dict:
        message = f"{len(self.linked)} acte(s) relié(s) à leur PDF sur {examined} examiné(s)" + (
            f" ; {self.failures} non récupéré(s) : voir le détail." if self.failures else "."
        )
        return {
            "examined": examined,
            "linked": len(self.linked),
            "skipped": self.failures,
            "downloads": len(self.by_url),
            "notes": self.notes,
            "message": message,
        }


def _pdf_name(delib_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in delib_id).strip("._") or "acte"
    return f"deliberation-{safe[:80]}.pdf"


def copy_attachment_texts(run: JobRun) -> dict:
    """Give each deliberation the text of its indexed document (the text routing and similarity read).
    Documents still being indexed: retried later; the copy is idempotent."""
    copied, failed, waiting = 0, 0, 0
    with run.tenant():
        links = list(
            Deliberation.objects.filter(pk__in=run.params["deliberation_ids"], document__isnull=False).values_list(
                "pk", "document_id"
            )
        )
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
    return {
        "copied": copied,
        "failed": failed,
        "message": f"Texte copié pour {copied} délibération(s)"
        + (f" ; {failed} document(s) n'ont pas pu être indexés." if failed else "."),
    }


copy_texts_task = job_task(TEXT_JOB, "Texte des actes récupérés", max_retries=TEXT_JOB_RETRIES)(copy_attachment_texts)
