"""Text extraction from uploaded documents (PDF, DOCX, ODT, HTML, text, Markdown, legacy .doc).
Returns cleaned text page by page; bad input raises ExtractionError with a French message for the user."""

import logging
import pathlib
import re
import tempfile
import zipfile
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from apps.jobs.errors import JobError

from . import ocr, readers
from .cleaning import clean_pages

logger = logging.getLogger(__name__)


class ExtractionError(JobError):
    """Bad input: user_message is French and says what to do."""


@dataclass
class Page:
    number: int  # 1-based, in the order of the original (1 for formats without pages)
    text: str


@dataclass
class Extracted:
    pages: list[Page]
    title: str = ""
    mime_type: str = ""
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    page_count: int = 0


SUPPORTED_EXTENSIONS = {".pdf", ".docx", ".odt", ".html", ".htm", ".txt", ".md", ".markdown", ".doc"}

MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "doc": "application/msword",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
# A page with fewer letters and digits than this is treated as scanned when it holds an image.
MIN_TEXT_CHARS = 25
TITLE_MAX_CHARS = 150

ocr_available = ocr.ocr_available

SUPPORTED_LABEL = "PDF, Word (.docx), OpenDocument (.odt), HTML, texte (.txt) ou Markdown (.md)"
MSG_UNSUPPORTED = f"Ce format de fichier n'est pas pris en charge : déposez un document {SUPPORTED_LABEL}."
MSG_IMAGE = "Les images ne sont pas prises en charge : enregistrez le document au format PDF puis déposez-le."
MSG_CORRUPT = (
    "Le fichier {kind} est illisible ou endommagé : ouvrez-le pour vérifier, enregistrez-le à nouveau puis déposez-le."
)
MSG_TRUNCATED = (
    "Le PDF est incomplet (fichier tronqué, par exemple un téléchargement interrompu) : déposez-le à nouveau."
)
MSG_PROTECTED = "Le PDF est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau."
MSG_TOO_MANY_PAGES = (
    "Le document compte {count} pages, au-delà de la limite de {limit} pages : "
    "découpez-le en plusieurs fichiers puis déposez-les."
)
MSG_EMPTY = "Le document ne contient aucun texte (pages vides ?) : vérifiez le fichier puis déposez-le à nouveau."
MSG_SCANNED_NO_OCR = (
    "Le document ne contient pas de texte : il semble numérisé et la reconnaissance de texte (OCR) est "
    "indisponible. Déposez une version exportée depuis le traitement de texte, ou faites installer "
    "tesseract-ocr-fra sur le serveur."
)
MSG_OCR_FAILED = (
    "La reconnaissance du texte (OCR) de ce document numérisé a échoué : réessayez plus tard, ou déposez "
    "une version contenant du texte."
)
MSG_DOC_NO_SOFFICE = (
    "Les fichiers Word anciens (.doc) ne sont pas pris en charge sur ce serveur : "
    "ouvrez le fichier et enregistrez-le au format .docx ou PDF, puis déposez-le à nouveau."
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGICS = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")
_ODT_MIMETYPES = {b"application/vnd.oasis.opendocument.text", b"application/vnd.oasis.opendocument.text-template"}
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_PLACEHOLDER_TITLE = re.compile(r"^(untitled|sans titre|document\s*\d*|diapositive\s*\d*)$", re.IGNORECASE)
_PDFIUM_HYPHEN = re.compile("[\ufffe\x02](\r?\n)?")


def extract(
    path: pathlib.Path, *, filename: str | None = None, max_pages: int | None = None, ocr: bool = True
) -> Extracted:
    """Extract cleaned text from the file at `path`; `filename` is the uploaded name (for its extension)."""
    path = pathlib.Path(path)
    suffix = pathlib.PurePath(filename or path.name).suffix.lower()
    kind = detect_format(path, suffix)
    if kind == "pdf":
        result = _read_pdf(path, max_pages=max_pages, use_ocr=ocr)
    elif kind == "doc":
        result = _read_legacy_doc(path)
    else:
        result = _read_paged(kind, path, max_pages=max_pages)
    result.mime_type = MIME_TYPES[kind]
    return result


def detect_format(path: pathlib.Path, suffix: str) -> str:
    """Format by magic bytes first, extension second; raises ExtractionError when unsupported."""
    with path.open("rb") as file:
        head = file.read(8192)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path, suffix)
    if head.startswith(_OLE_MAGIC):
        if suffix in ("", ".doc", ".dot"):
            return "doc"
        raise ExtractionError(MSG_UNSUPPORTED, detail=f"OLE container with suffix {suffix!r}")
    if head.startswith(_IMAGE_MAGICS):
        raise ExtractionError(MSG_IMAGE, detail="image file")
    if head.startswith(b"{\\rtf"):
        raise ExtractionError(MSG_UNSUPPORTED, detail="RTF file")
    if suffix in (".pdf", ".docx", ".odt", ".doc"):  # right name, wrong content
        raise ExtractionError(MSG_CORRUPT.format(kind=suffix[1:].upper()), detail=f"no {suffix} signature")
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise ExtractionError(MSG_UNSUPPORTED, detail="binary content")
    if _HTML_START.match(head) or suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    if suffix in ("", ".txt", ".text"):
        return "text"
    raise ExtractionError(MSG_UNSUPPORTED, detail=f"text file with suffix {suffix!r}")


def _zip_format(path: pathlib.Path, suffix: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        kind = {".docx": "Word", ".odt": "OpenDocument"}.get(suffix, "ZIP")
        raise ExtractionError(MSG_CORRUPT.format(kind=kind), detail=str(exc)) from exc
    if "word/document.xml" in names:
        return "docx"
    if mimetype in _ODT_MIMETYPES:
        return "odt"
    raise ExtractionError(MSG_UNSUPPORTED, detail=f"zip container {mimetype!r}")


def _read_pdf(path: pathlib.Path, *, max_pages: int | None, use_ocr: bool) -> Extracted:
    pdf = _open_pdf(path)
    try:
        count = len(pdf)
        _check_page_count(count, max_pages)
        title = _pdf_title(pdf)
        texts, scanned, warnings = _pdf_text_layer(pdf)
        ocr_done: list[int] = []
        failed: list[int] = []
        if scanned and use_ocr and ocr_available():
            ocr_done, failed = _apply_ocr(pdf, scanned, texts)
            warnings += _pages_warning(failed, "la reconnaissance du texte (OCR) a échoué")
        elif scanned:
            warnings += _scanned_warning([i + 1 for i in scanned], ocr_enabled=use_ocr)
    finally:
        pdf.close()
    cleaned = clean_pages(texts)
    if not any(cleaned):
        _raise_no_text(path, scanned=bool(scanned), ocr_ran=use_ocr and ocr_available(), ocr_failed=bool(failed))
    pages = [Page(number=i, text=text) for i, text in enumerate(cleaned, start=1)]
    title = title or _first_line(cleaned)
    return Extracted(pages=pages, title=title, ocr_pages=ocr_done, warnings=warnings, page_count=count)


def _raise_no_text(path: pathlib.Path, *, scanned: bool, ocr_ran: bool, ocr_failed: bool) -> None:
    message = MSG_EMPTY
    if scanned and not ocr_ran:
        message = MSG_SCANNED_NO_OCR
    elif ocr_failed:
        message = MSG_OCR_FAILED
    raise ExtractionError(message, detail=f"{path.name}: no text (scanned={scanned}, ocr_ran={ocr_ran})")


def _open_pdf(path: pathlib.Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ExtractionError(MSG_PROTECTED, detail=str(exc)) from exc
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - 2048))
            tail = file.read()
        message = MSG_CORRUPT.format(kind="PDF") if b"%%EOF" in tail else MSG_TRUNCATED
        raise ExtractionError(message, detail=str(exc)) from exc


def _pdf_text_layer(pdf: pdfium.PdfDocument) -> tuple[list[str], list[int], list[str]]:
    """Text of every page, the 0-based indexes of pages that look scanned, and warnings."""
    texts, scanned, unreadable = [], [], []
    for index in range(len(pdf)):
        try:
            page = pdf[index]
        except pdfium.PdfiumError:
            logger.warning("PDF page %d could not be loaded", index + 1, exc_info=True)
            texts.append("")
            unreadable.append(index + 1)
            continue
        textpage = page.get_textpage()
        # pdfium marks a hyphen that ends a line with \ufffe and glues the lines: restore both, and let
        # the cleaner decide between "délibéra-tion" (a break) and "Anne-Marie" (a compound).
        text = _PDFIUM_HYPHEN.sub("-\n", textpage.get_text_range())
        textpage.close()
        if sum(ch.isalnum() for ch in text) < MIN_TEXT_CHARS and _has_graphics(page):
            scanned.append(index)
        page.close()
        texts.append(text)
    return texts, scanned, _pages_warning(unreadable, "illisible")


def _has_graphics(page: pdfium.PdfPage) -> bool:
    # Images, or vector paths (text converted to outlines); forms are searched for both.
    kinds = (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_SHADING)
    return any(obj.type in kinds for obj in page.get_objects(max_depth=3))


def _apply_ocr(pdf: pdfium.PdfDocument, scanned: list[int], texts: list[str]) -> tuple[list[int], list[int]]:
    results = ocr.read_scanned_pages(pdf, scanned)
    done, failed = [], []
    for index, text in results.items():
        if text is None:
            failed.append(index + 1)
        elif len(text.strip()) > len(texts[index].strip()):
            texts[index] = text
            done.append(index + 1)
    logger.info("OCR read %d of %d scanned pages", len(done), len(scanned))
    return sorted(done), sorted(failed)


def _pdf_title(pdf: pdfium.PdfDocument) -> str:
    title = (pdf.get_metadata_value("Title") or "").strip()
    title = re.sub(r"^Microsoft (Word|PowerPoint) - ", "", title)
    # Producers often store the file name ("CR v4.docx") or a placeholder: not a title.
    if re.search(r"\.(docx?|odt|pdf|rtf)$", title, re.IGNORECASE) or _PLACEHOLDER_TITLE.match(title):
        return ""
    return title[:TITLE_MAX_CHARS]


def _read_legacy_doc(path: pathlib.Path) -> Extracted:
    if readers.soffice_binary() is None:
        raise ExtractionError(MSG_DOC_NO_SOFFICE, detail="soffice not installed")
    with tempfile.TemporaryDirectory(prefix="registre-doc-") as tmp:
        try:
            converted = readers.convert_doc_to_docx(path, pathlib.Path(tmp))
        except readers.UnreadableDocument as exc:
            raise ExtractionError(MSG_CORRUPT.format(kind="Word"), detail=str(exc)) from exc
        return _read_paged("docx", converted, max_pages=None)


def _read_paged(kind: str, path: pathlib.Path, *, max_pages: int | None) -> Extracted:
    """Read a format without a PDF's page model; form feeds in text files still separate pages."""
    try:
        title, raw_pages = _READERS[kind](path)
    except readers.UnreadableDocument as exc:
        label = {"docx": "Word", "odt": "OpenDocument"}[kind]
        raise ExtractionError(MSG_CORRUPT.format(kind=label), detail=str(exc)) from exc
    _check_page_count(len(raw_pages), max_pages)
    cleaned = clean_pages(raw_pages)
    if not any(cleaned):
        raise ExtractionError(MSG_EMPTY, detail=f"{path.name}: no text")
    pages = [Page(number=i, text=text) for i, text in enumerate(cleaned, start=1)]
    return Extracted(pages=pages, title=title or _first_line(cleaned), page_count=len(pages))


def _check_page_count(count: int, max_pages: int | None) -> None:
    if max_pages is not None and count > max_pages:
        raise ExtractionError(MSG_TOO_MANY_PAGES.format(count=count, limit=max_pages), detail="too many pages")


def _pages_warning(numbers: list[int], what: str) -> list[str]:
    if not numbers:
        return []
    label = "Pages" if len(numbers) > 1 else "Page"
    return [f"{label} {', '.join(map(str, numbers))} : {what}."]


def _scanned_warning(numbers: list[int], *, ocr_enabled: bool) -> list[str]:
    hint = "installez tesseract-ocr-fra" if ocr_enabled else "OCR désactivé pour ce traitement"
    plural = "s" if len(numbers) > 1 else ""
    return _pages_warning(numbers, f"numérisée{plural}, OCR indisponible ({hint})")


def _first_line(pages: list[str]) -> str:
    for text in pages:
        for line in text.split("\n"):
            if line.strip():
                return line.strip() if len(line) <= TITLE_MAX_CHARS else ""
    return ""


_READERS = {
    "docx": readers.read_docx,
    "odt": readers.read_odt,
    "html": readers.read_html,
    "markdown": readers.read_markdown,
    "text": readers.read_text,
}
