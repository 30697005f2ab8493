"""The guarded HTTP download that URL imports and acts' PDFs use: a size cap, a timeout, no private or
loopback address (unless an intranet allows them), and French reasons when it does not work."""

import ipaddress
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from apps import french
from apps.jobs.errors import JobError, TransientJobError

USER_AGENT = "Registre (registre des deliberations)"  # HTTP headers are ASCII


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


def _timeout() -> float:
    return settings.DELIB_FETCH_TIMEOUT_SECONDS


def _check_host(request: httpx.Request) -> None:
    """Refuse loopback, private and link-local addresses (every redirect hop too): an import must not make
    the server read its own network. Tests and closed networks lift it with DELIB_FETCH_ALLOW_PRIVATE_HOSTS."""
    if settings.DELIB_FETCH_ALLOW_PRIVATE_HOSTS:
        return
    host = request.url.host
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, request.url.port or 443)}
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}", request=request) from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise DownloadError(
                f"L'adresse {host} désigne un réseau interne : elle n'est pas autorisée.",
                detail=f"{host} resolves to {ip}",
            )


def download(url: str, *, max_bytes: int, what: str, expect_pdf: bool = False) -> Downloaded:
    """Stream `url` to a temporary file (the caller deletes it). French errors; TransientJobError for what
    may work later (timeout, unreachable, 5xx)."""
    host = urlsplit(url).netloc or url
    too_large = f"{what} dépasse la limite de {french.file_size(max_bytes)}."
    try:
        with (
            httpx.Client(
                timeout=_timeout(),
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
                event_hooks={"request": [_check_host]},
            ) as client,
            client.stream("GET", url) as response,
        ):
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
        raise TransientJobError(
            f"Le serveur {host} n'a pas répondu dans les {seconds} secondes ; nouvel essai plus tard.", detail=repr(exc)
        ) from exc
    except httpx.TransportError as exc:
        raise TransientJobError(
            f"Impossible de joindre {host} (réseau ou serveur indisponible) ; nouvel essai plus tard.", detail=repr(exc)
        ) from exc


def download_table(url: str, *, max_bytes: int) -> tuple[Downloaded, str]:
    """An SCDL table at a URL (for imports): refused when it is a web page or a document; with a file name
    that tells CSV from JSON when the URL has none."""
    downloaded = download(url, max_bytes=max_bytes, what="Le fichier à cette adresse")
    if (
        downloaded.looks_like_html
        or downloaded.is_pdf
        or downloaded.content_type in ("application/pdf", "application/zip")
    ):
        downloaded.path.unlink(missing_ok=True)
        raise DownloadError(
            "L'adresse renvoie une page web ou un document, pas un fichier CSV ou JSON : indiquez "
            "le lien direct du fichier (il se termine souvent par .csv).",
            detail=f"content-type {downloaded.content_type!r}",
        )
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
                    head += chunk[: 1024 - len(head)]
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
