"""Readers for the formats without a PDF page model: DOCX, ODT, HTML, Markdown, text, legacy .doc.
Each returns (title, raw text pages); cleaning and the French error messages belong to extraction.py."""

import pathlib
import re
import shutil
import subprocess

import charset_normalizer
import docx
from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag
from docx.table import Table
from docx.text.paragraph import Paragraph
from odf import dc, teletype
from odf import text as odf_text
from odf.namespaces import TABLENS, TEXTNS
from odf.opendocument import load as load_odf

SOFFICE_TIMEOUT_S = 180
CELL_SEPARATOR = " | "
_HEADING_STYLES = ("heading", "titre", "title")
_TEXT_ENCODINGS = ["utf_16", "cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]

_HTML_DROPPED = ["script", "style", "noscript", "template", "nav", "footer", "svg", "iframe", "head"]
_HTML_BLOCKS = {
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "legend",
    "li", "main", "ol", "p", "section", "summary", "table", "tbody", "tfoot", "thead", "ul",
}  # fmt: skip

_MD_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$")
_MD_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image -> its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link -> its text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(\S[^*]*?)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"^\s{0,3}>\s?"), ""),
    (re.compile(r"^\s*\|(.*)\|\s*$"), r"\1"),  # table row: drop the outer pipes
]


class UnreadableDocument(Exception):
    """The file has the right container but its content cannot be parsed."""


def read_docx(path: pathlib.Path) -> tuple[str, list[str]]:
    """Paragraphs and tables in document order, one line each (a table row is one line)."""
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, lxml and zip errors alike
        raise UnreadableDocument(str(exc)) from exc
    lines: list[str] = []
    first_heading = ""
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
            if not first_heading and _is_heading(block) and block.text.strip():
                first_heading = block.text.strip()
        elif isinstance(block, Table):
            lines.extend(_docx_table_lines(block))
    title = (document.core_properties.title or "").strip() or first_heading
    return title, ["\n".join(lines)]


def _is_heading(paragraph: Paragraph) -> bool:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return name.lower().startswith(_HEADING_STYLES)


def _docx_table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(CELL_SEPARATOR.join(cells))
    return lines


def read_odt(path: pathlib.Path) -> tuple[str, list[str]]:
    """Headings, paragraphs, lists and tables of an OpenDocument text, in order."""
    try:
        document = load_odf(str(path))
    except Exception as exc:  # odfpy surfaces zip, XML and KeyError failures
        raise UnreadableDocument(str(exc)) from exc
    lines: list[str] = []
    headings: list[str] = []
    _walk_odt(document.text, lines, headings)
    titles = [teletype.extractText(node).strip() for node in document.meta.getElementsByType(dc.Title)]
    title = next((t for t in titles if t), "") or (headings[0] if headings else "")
    return title, ["\n".join(lines)]


def _walk_odt(node, lines: list[str], headings: list[str]) -> None:
    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
            text = teletype.extractText(child)
            lines.append(text)
            if qname == (TEXTNS, "h") and text.strip():
                headings.append(text.strip())
        elif qname == (TABLENS, "table-row"):
            cells = [_odt_cell_text(cell) for cell in child.childNodes if cell.qname == (TABLENS, "table-cell")]
            if any(cells):
                lines.append(CELL_SEPARATOR.join(cells))
        elif qname is not None and qname[1] not in ("tracked-changes", "sequence-decls", "note-citation"):
            _walk_odt(child, lines, headings)  # lists, sections, tables, frames


def _odt_cell_text(cell) -> str:
    return " ".join(" ".join(teletype.extractText(p) for p in cell.getElementsByType(odf_text.P)).split())


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_doc_to_docx(path: pathlib.Path, workdir: pathlib.Path) -> pathlib.Path:
    """Convert a legacy .doc with LibreOffice into `workdir`; raises UnreadableDocument on failure."""
    soffice = soffice_binary()
    if soffice is None:
        raise FileNotFoundError("soffice")
    source = workdir / "document.doc"
    shutil.copyfile(path, source)
    # A private profile: two conversions sharing the default profile block each other.
    command = [soffice, "--headless", "--norestore", f"-env:UserInstallation={(workdir / 'profile').as_uri()}"]
    command += ["--convert-to", "docx", "--outdir", str(workdir), str(source)]
    try:
        subprocess.run(command, capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise UnreadableDocument("soffice timed out") from exc
    converted = workdir / "document.docx"
    if not converted.exists():
        raise UnreadableDocument("soffice produced no .docx")
    return converted


def decode_text(data: bytes) -> str:
    """UTF-8 when valid, else charset-normalizer's guess among encodings used for French text."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_TEXT_ENCODINGS).best()
    # Latin-1 leaves 0x80-0x9F as control codes where Windows files hold curly quotes, oe ligatures and euros.
    encoding = "cp1252" if best is None or best.encoding == "latin_1" else best.encoding
    return data.decode(encoding, errors="replace")


def read_text(path: pathlib.Path) -> tuple[str, list[str]]:
    """Form feeds are page breaks in text exported from PDFs (pdftotext ends every page with one)."""
    pages = decode_text(path.read_bytes()).split("\f")
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()
    return "", pages


def read_markdown(path: pathlib.Path) -> tuple[str, list[str]]:
    text = decode_text(path.read_bytes())
    title = ""
    if front := _MD_FRONT_MATTER.match(text):
        title_line = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", front.group(1), re.MULTILINE)
        title = title_line.group(1) if title_line else ""
        text = text[front.end() :]
    lines = []
    for line in text.split("\n"):
        if _MD_FENCE.match(line) or _MD_TABLE_RULE.match(line):
            continue
        if heading := _MD_HEADING.match(line):
            line = heading.group(1)
            title = title or line
        for pattern, replacement in _MD_INLINE:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return title, ["\n".join(lines)]


def read_html(path: pathlib.Path) -> tuple[str, list[str]]:
    soup = BeautifulSoup(path.read_bytes(), "lxml")
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    for tag in soup(_HTML_DROPPED):
        tag.decompose()
    if not title and (heading := soup.find("h1")):
        title = " ".join(heading.get_text().split())
    lines: list[str] = []
    buffer: list[str] = []
    _walk_html(soup.body or soup, lines, buffer)
    _flush(lines, buffer)
    return title, ["\n".join(lines)]


def _walk_html(node: Tag, lines: list[str], buffer: list[str]) -> None:
    for child in node.children:
        if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            buffer.append(str(child))
        elif child.name == "br":
            _flush(lines, buffer)
        elif child.name == "tr":
            _flush(lines, buffer)
            cells = [" ".join(cell.get_text(" ").split()) for cell in child.find_all(["td", "th"], recursive=False)]
            if any(cells):
                lines.append(CELL_SEPARATOR.join(cells))
        elif child.name == "pre":
            _flush(lines, buffer)
            lines.extend(child.get_text().split("\n"))
        elif child.name in _HTML_BLOCKS:
            _flush(lines, buffer)
            _walk_html(child, lines, buffer)
            _flush(lines, buffer)
        else:
            _walk_html(child, lines, buffer)


def _flush(lines: list[str], buffer: list[str]) -> None:
    # Source newlines inside a paragraph are not line breaks in HTML.
    line = " ".join("".join(buffer).split())
    if line:
        lines.append(line)
    buffer.clear()
