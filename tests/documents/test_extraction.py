"""Text extraction: every supported format, the real Couthenans PDFs and Avranches minutes, the cleaner,
and the French errors users get for corrupt, truncated, protected, empty, scanned or oversized files."""

import functools
import io
import os
import subprocess
import zipfile
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pytest
from odf import table as odf_table
from odf import text as odf_text
from odf.opendocument import OpenDocumentText

from apps.documents import extraction, ocr
from apps.documents.cleaning import clean_pages, clean_text, dehyphenate, is_page_number
from apps.documents.extraction import SUPPORTED_EXTENSIONS, Extracted, ExtractionError, extract, ocr_available
from apps.jobs.errors import JobError
from tests.paths import SHARED_DATA
from tests.system_tools import needs

COUTHENANS = SHARED_DATA / "pdf-couthenans"
AVRANCHES = SHARED_DATA / "proces-verbaux"
COUTHENANS_PDFS = sorted(COUTHENANS.glob("*.pdf"))
AVRANCHES_TEXTS = sorted(AVRANCHES.glob("*.txt"))
SCANNED_PAGE_PDF = COUTHENANS / "CR_conseil_municipal_28_10_2022.pdf"  # its page 3 is a scanned motion

needs_ocr = needs("tesseract")  # skipped without Tesseract French, failed under CI=true

# Phrases read in the originals: they must come out whole (accents, hyphens, superscripts rejoined).
EXPECTED_PHRASES = {
    "CR_reunion_20210129.pdf": ["Convention de mise à disposition de personnel", "ADOPTÉ à l’unanimité"],
    "CR_reunion_20210604.pdf": ["Conseil municipal du 4 juin 2021", "Vote : 14 pour / 0 contre / 0 abstention"],
    "CR_reunion_20220121.pdf": ["Anne-Marie MUNINGER", "13 votes pour 1 abstention"],
    "CR_conseil_municipal_07_10_2022.pdf": ["au plus tard le 1er janvier 2024", "13 votes pour"],
    "CR_conseil_municipal_28_10_2022.pdf": ["Réglementation des questions diverses", "11 voix pour"],
    "CR_reunion_20211126.pdf": ["Décision modificative", "déficit antérieur reporté"],
}


@functools.cache
def extracted(path: Path) -> Extracted:
    """Each real PDF is extracted once per run: OCR of the scanned page costs seconds."""
    return extract(path)


def text_of(result: Extracted) -> str:
    return "\n".join(page.text for page in result.pages)


def save_pdf(pdf: pdfium.PdfDocument, path: Path) -> Path:
    buffer = io.BytesIO()
    pdf.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def image_only_pdf(path: Path, source: Path, *, with_text_page: bool = False) -> Path:
    """A PDF whose page is a picture of page 1 of `source`: what a scanner produces."""
    original = pdfium.PdfDocument(source)
    page = original[0]
    width, height = page.get_size()
    bitmap = page.render(scale=200 / 72, grayscale=True)
    scanned = pdfium.PdfDocument.new()
    if with_text_page:
        scanned.import_pages(original, [0])
    new_page = scanned.new_page(width, height)
    image = pdfium.PdfImage.new(scanned)
    image.set_bitmap(bitmap)
    image.set_matrix(pdfium.PdfMatrix().scale(width, height))
    new_page.insert_obj(image)
    new_page.gen_content()
    return save_pdf(scanned, path)


# --- the cleaner -------------------------------------------------------------------------------------


def test_word_hyphenated_across_lines_is_joined():
    assert clean_text("la délibéra-\ntion du conseil") == "la délibération du conseil"


@pytest.mark.parametrize(
    ("broken", "whole"),
    [
        ("Saint-\nÉtienne", "Saint-Étienne"),
        ("c'est-à-\ndire", "c'est-à-dire"),
        ("l'après-\nmidi", "l'après-midi"),
        ("peut-\nêtre", "peut-être"),
        ("le procès-\nverbal", "le procès-verbal"),
        ("vingt-\ndeux", "vingt-deux"),
        ("non-\nvaleur", "non-valeur"),
    ],
)
def test_real_compounds_keep_their_hyphen(broken, whole):
    assert clean_text(broken) == whole


def test_document_vocabulary_decides_between_break_and_compound():
    lines = ["les sapeurs-", "pompiers et la délibéra-", "tion"]
    vocabulary = {"sapeurs-pompiers", "délibération"}
    assert dehyphenate(lines, vocabulary) == ["les sapeurs-pompiers et la délibération"]


def test_hyphen_after_a_space_is_not_a_word_break():
    assert clean_text("Pour -\nContre") == "Pour -\nContre"


def test_ligatures_spaces_and_ordinals_are_normalised():
    text = "la dé\ufb01nition\u00a0du\u202fbudget\t  2024\nle 1\ner\njanvier\nDélibe\u0301ration"
    assert clean_text(text) == "la définition du budget 2024\nle 1er janvier\nDélibération"


def test_line_structure_of_a_deliberation_is_kept():
    text = (
        "Vu le code général des collectivités territoriales,\n"
        "Considérant la demande de subvention,\n\n\n\n"
        "DÉLIBÈRE\n"
        "Article 2 : le budget est adopté.\n"
        "1. Objet : subvention\n"
        "Pour : 12 Contre : 0 Abstention : 1\n"
        "____________\n"
    )
    assert clean_text(text).split("\n") == [
        "Vu le code général des collectivités territoriales,",
        "Considérant la demande de subvention,",
        "",
        "DÉLIBÈRE",
        "Article 2 : le budget est adopté.",
        "1. Objet : subvention",
        "Pour : 12 Contre : 0 Abstention : 1",
    ]


def test_running_headers_footers_and_page_numbers_are_removed():
    pages = [
        f"Commune de Couthenans\nCompte rendu du conseil municipal du 4 juin 2021\nPage {n} / 4\n"
        f"Article {n} : texte de la page {n}.\n1{n} votes pour\nCM – 04.06.2021\n{n}"
        for n in range(1, 5)
    ]
    assert clean_pages(pages) == [f"Article {n} : texte de la page {n}.\n1{n} votes pour" for n in range(1, 5)]


def test_repeated_content_away_from_the_page_edge_is_kept():
    body = "Article {n}\nVu le code général,\nPour : 12\nAdopté le {n} mars"
    pages = [f"Couthenans\n{body.format(n=n)}\n- {n} -" for n in range(1, 5)]
    assert clean_pages(pages) == [body.format(n=n) for n in range(1, 5)]


def test_a_line_repeated_on_only_two_of_three_pages_is_kept():
    pages = ["Titre\nArticle 1\n15 pour", "Article 2\n15 pour", "Article 3\nDÉLIBÈRE"]
    assert clean_pages(pages) == pages


@pytest.mark.parametrize(
    ("line", "number", "expected"),
    [("Page 3 / 12", 3, True), ("3/12", 3, True), ("- 3 -", 3, True), ("3", 3, True), ("15", 3, False),
     ("12/15", 3, False), ("Pour : 12", 3, False), ("2021", 3, False), ("page 7 sur 9", 1, True)],
)  # fmt: skip
def test_page_number_lines(line, number, expected):
    assert is_page_number(line, number) is expected


def test_a_bare_number_that_is_not_the_page_number_stays():
    assert clean_pages(["Budget\n15", "Vote\n15"]) == ["Budget\n15", "Vote\n15"]


# --- real documents -----------------------------------------------------------------------------------


def test_the_shared_data_is_there():
    assert len(COUTHENANS_PDFS) == 11
    assert len(AVRANCHES_TEXTS) == 29


@pytest.mark.parametrize("path", COUTHENANS_PDFS, ids=lambda p: p.name)
def test_couthenans_pdf_extracts_every_page_in_order(path):
    result = extracted(path)

    assert result.page_count == len(pdfium.PdfDocument(path))
    assert [page.number for page in result.pages] == list(range(1, result.page_count + 1))
    assert result.mime_type == "application/pdf"
    text = text_of(result)
    assert "conseil municipal" in text.lower()
    assert all(word in text for word in ("Présents", "é"))
    assert "\ufffe" not in text and "\x02" not in text
    for phrase in EXPECTED_PHRASES.get(path.name, []):
        assert phrase in text
    assert result.title.lower().startswith(("cr du conseil municipal", "c-r du conseil", "conseil municipal du"))


def test_page_headers_of_a_word_export_are_gone():
    result = extract(COUTHENANS / "CR_reunion_20210604.pdf")

    assert result.page_count == 6
    assert all(not page.text.startswith("Page ") for page in result.pages)
    assert result.title == "Conseil municipal du 4 juin 2021"  # not the metadata's "Microsoft Word - ….docx"


@needs_ocr
def test_scanned_page_of_a_real_pdf_is_read_by_ocr():
    result = extracted(SCANNED_PAGE_PDF)

    assert result.ocr_pages == [3]
    assert result.warnings == []
    assert "Association de Maires de France" in result.pages[2].text


def test_scanned_page_without_ocr_gives_a_french_warning_and_keeps_other_pages():
    result = extract(SCANNED_PAGE_PDF, ocr=False)

    assert result.ocr_pages == []
    assert result.pages[2].text == ""
    assert result.warnings == ["Page 3 : numérisée, OCR indisponible (OCR désactivé pour ce traitement)."]
    assert "Réglementation des questions diverses" in result.pages[3].text


def test_missing_tesseract_is_named_in_the_warning(monkeypatch):
    monkeypatch.setattr(extraction, "ocr_available", lambda: False)

    result = extract(SCANNED_PAGE_PDF)

    assert result.warnings == ["Page 3 : numérisée, OCR indisponible (installez tesseract-ocr-fra)."]


def test_failed_ocr_is_reported_per_page_and_other_pages_kept(monkeypatch):
    def crash(image):
        raise ocr.OcrFailed("tesseract crashed")

    monkeypatch.setattr(extraction, "ocr_available", lambda: True)
    monkeypatch.setattr(ocr, "_tesseract", crash)

    result = extract(SCANNED_PAGE_PDF)

    assert result.ocr_pages == []
    assert result.warnings == ["Page 3 : la reconnaissance du texte (OCR) a échoué."]
    assert "Réglementation des questions diverses" in result.pages[3].text


def test_avranches_minutes_keep_their_form_feed_pages_without_footers():
    path = AVRANCHES / "avranches_CM04.07.2017_-_PV.txt"
    raw = path.read_text(encoding="utf-8")

    result = extract(path)

    assert result.page_count == raw.count("\f") == 14  # pdftotext ends every page, the last one too
    assert result.mime_type == "text/plain"
    assert "PROCES VERBAL DE LA RÉUNION DU CONSEIL MUNICIPAL" in result.pages[0].text
    for page in result.pages[1:]:
        lines = page.text.split("\n")
        assert "CM – 04.07.2017" not in lines
        assert str(page.number) not in lines[-2:]


@pytest.mark.parametrize("path", AVRANCHES_TEXTS, ids=lambda p: p.name)
def test_every_avranches_minutes_extracts(path):
    result = extract(path)

    assert result.pages and "conseil municipal" in text_of(result).lower()


# --- generated files, one per format -------------------------------------------------------------------


def test_docx_paragraphs_headings_and_tables_in_order(tmp_path):
    document = docx.Document()
    document.core_properties.title = "Délibération n° 2024-12"
    document.add_heading("Subvention à l'association", level=1)
    document.add_paragraph("Vu le code général des collectivités territoriales,")
    table = document.add_table(rows=2, cols=2)
    for row, (label, votes) in enumerate([("Pour", "12"), ("Contre", "0")]):
        table.cell(row, 0).text, table.cell(row, 1).text = label, votes
    document.add_paragraph("DÉLIBÈRE")
    document.save(tmp_path / "deliberation.docx")

    result = extract(tmp_path / "deliberation.docx")

    assert result.title == "Délibération n° 2024-12"
    assert result.mime_type.endswith("wordprocessingml.document")
    assert [page.number for page in result.pages] == [1]
    assert result.pages[0].text.split("\n") == [
        "Subvention à l'association",
        "Vu le code général des collectivités territoriales,",
        "Pour | 12",
        "Contre | 0",
        "DÉLIBÈRE",
    ]


def test_docx_title_falls_back_to_first_heading(tmp_path):
    document = docx.Document()
    document.add_paragraph("préambule")
    document.add_heading("Procès-verbal de séance", level=1)
    document.save(tmp_path / "pv.docx")

    assert extract(tmp_path / "pv.docx").title == "Procès-verbal de séance"


def test_odt_headings_paragraphs_lists_and_tables(tmp_path):
    document = OpenDocumentText()
    document.text.addElement(odf_text.H(outlinelevel=1, text="Compte rendu du conseil municipal"))
    document.text.addElement(odf_text.P(text="Considérant la demande de l'école,"))
    items = odf_text.List()
    item = odf_text.ListItem()
    item.addElement(odf_text.P(text="1. Objet : cantine scolaire"))
    items.addElement(item)
    document.text.addElement(items)
    grid = odf_table.Table()
    row = odf_table.TableRow()
    for value in ("Pour : 12", "Contre : 0"):
        cell = odf_table.TableCell()
        cell.addElement(odf_text.P(text=value))
        row.addElement(cell)
    grid.addElement(row)
    document.text.addElement(grid)
    document.save(str(tmp_path / "cr.odt"))

    result = extract(tmp_path / "cr.odt")

    assert result.title == "Compte rendu du conseil municipal"
    assert result.mime_type == "application/vnd.oasis.opendocument.text"
    assert result.pages[0].text.split("\n") == [
        "Compte rendu du conseil municipal",
        "Considérant la demande de l'école,",
        "1. Objet : cantine scolaire",
        "Pour : 12 | Contre : 0",
    ]


def test_html_keeps_headings_and_paragraphs_and_drops_page_furniture(tmp_path):
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Séance du 3 mars</title>
    <style>p { color: red }</style></head><body>
    <nav><a href="/">Accueil</a></nav>
    <h1>Conseil municipal</h1>
    <p>Le conseil,
       après en avoir délibéré,<br>DÉLIBÈRE</p>
    <script>alert("x")</script>
    <table><tr><td>Pour</td><td>12</td></tr></table>
    <footer>Mentions légales</footer></body></html>"""
    path = tmp_path / "seance.html"
    path.write_text(page, encoding="utf-8")

    result = extract(path)

    assert result.title == "Séance du 3 mars"
    assert result.mime_type == "text/html"
    assert result.pages[0].text.split("\n") == [
        "Conseil municipal",
        "Le conseil, après en avoir délibéré,",
        "DÉLIBÈRE",
        "Pour | 12",
    ]


def test_markdown_loses_its_markup_but_keeps_its_lines(tmp_path):
    path = tmp_path / "note.md"
    path.write_text(
        "# Note de synthèse\n\nVoir **l'article 2** et [le site](https://example.org).\n\n"
        "| Vote | Nombre |\n|---|---|\n| Pour | 12 |\n",
        encoding="utf-8",
    )

    result = extract(path)

    assert result.title == "Note de synthèse"
    assert result.mime_type == "text/markdown"
    assert result.pages[0].text.split("\n") == [
        "Note de synthèse",
        "",
        "Voir l'article 2 et le site.",
        "",
        "Vote | Nombre",
        "Pour | 12",
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252", "utf-16"])
def test_text_files_in_the_encodings_of_french_offices(tmp_path, encoding):
    text = "Procès-verbal de la séance\nL'assemblée délibère ; à l'unanimité.\nArticle 1er : adopté.\n"
    if encoding == "cp1252":
        text += "Coût : 1 200 € – l’œuvre\n"
    path = tmp_path / "pv.txt"
    path.write_bytes(text.encode(encoding))

    result = extract(path)

    assert result.pages[0].text == text.strip()
    assert result.title == "Procès-verbal de la séance"


def test_text_pages_split_on_form_feeds_without_a_trailing_empty_page(tmp_path):
    path = tmp_path / "pdftotext.txt"
    path.write_text("Première page\fDeuxième page\f", encoding="utf-8")

    result = extract(path)

    assert [(page.number, page.text) for page in result.pages] == [(1, "Première page"), (2, "Deuxième page")]
    assert result.page_count == 2


def test_magic_bytes_win_over_the_extension(tmp_path):
    path = tmp_path / "upload.bin"
    path.write_bytes((COUTHENANS / "CR_reunion_20211105.pdf").read_bytes())

    assert extract(str(path), filename="compte-rendu.txt").mime_type == "application/pdf"


def test_the_original_filename_gives_the_extension(tmp_path):
    path = tmp_path / "upload"
    path.write_text("# Titre\ntexte", encoding="utf-8")

    assert extract(path, filename="note.md").mime_type == "text/markdown"


def test_supported_extensions():
    assert {".pdf", ".docx", ".odt", ".html", ".htm", ".txt", ".md"} <= SUPPORTED_EXTENSIONS


# --- bad input: French messages that say what to do ----------------------------------------------------


def assert_french_error(error: ExtractionError, *words: str) -> None:
    assert isinstance(error, JobError)
    assert "déposez" in error.user_message.lower() or "enregistrez" in error.user_message.lower()
    for word in words:
        assert word in error.user_message


def test_random_bytes_named_pdf(tmp_path):
    path = tmp_path / "cr.pdf"
    path.write_bytes(os.urandom(4096))

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "PDF", "endommagé")


def test_pdf_signature_with_garbage_after_it(tmp_path):
    path = tmp_path / "cr.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(4096) + b"\n%%EOF\n")

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "endommagé")


def test_truncated_pdf(tmp_path):
    data = (COUTHENANS / "CR_reunion_20210604.pdf").read_bytes()
    path = tmp_path / "cr.pdf"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "incomplet")


def test_password_protected_pdf(tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev dependency) writes the encrypted PDF")
    writer = pypdf.PdfWriter(clone_from=COUTHENANS / "CR_reunion_20211105.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "protege.pdf"
    with path.open("wb") as file:
        writer.write(file)

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert caught.value.user_message == (
        "Le PDF est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau."
    )


def test_blank_pdf(tmp_path):
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    path = save_pdf(pdf, tmp_path / "vide.pdf")

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "aucun texte")


def test_scanned_pdf_without_ocr_is_refused_in_french(tmp_path):
    path = image_only_pdf(tmp_path / "scan.pdf", COUTHENANS / "CR_reunion_20211105.pdf")

    with pytest.raises(ExtractionError) as caught:
        extract(path, ocr=False)
    assert_french_error(caught.value, "numérisé", "OCR")


@needs_ocr
def test_scanned_pdf_is_read_by_ocr(tmp_path):
    path = image_only_pdf(tmp_path / "scan.pdf", COUTHENANS / "CR_reunion_20211105.pdf", with_text_page=True)

    result = extract(path)

    assert result.ocr_pages == [2]
    assert [page.number for page in result.pages] == [1, 2]
    assert "conseil municipal" in result.pages[1].text.lower()
    assert "novembre 2021" in result.pages[1].text


def test_too_many_pages(tmp_path):
    with pytest.raises(ExtractionError) as caught:
        extract(COUTHENANS / "CR_reunion_20210604.pdf", max_pages=5)
    assert caught.value.user_message == (
        "Le document compte 6 pages, au-delà de la limite de 5 pages : "
        "découpez-le en plusieurs fichiers puis déposez-les."
    )


def test_page_limit_counts_form_feed_pages_of_text_files():
    with pytest.raises(ExtractionError) as caught:
        extract(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt", max_pages=3)
    assert "compte 14 pages, au-delà de la limite de 3 pages" in caught.value.user_message


def test_empty_text_file(tmp_path):
    path = tmp_path / "vide.txt"
    path.write_text(" \n\n \f \n", encoding="utf-8")

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "aucun texte")


def test_image_upload_is_refused(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(256))

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "PDF")


def test_spreadsheet_is_unsupported(tmp_path):
    path = tmp_path / "budget.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert caught.value.user_message.startswith("Ce format de fichier n'est pas pris en charge")


def test_corrupt_docx(tmp_path):
    path = tmp_path / "cr.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><oops")

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, "Word", "endommagé")


def test_legacy_doc_without_libreoffice_asks_for_docx(tmp_path, monkeypatch):
    monkeypatch.setattr(extraction.readers, "soffice_binary", lambda: None)  # a server without LibreOffice
    path = tmp_path / "ancien.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))

    with pytest.raises(ExtractionError) as caught:
        extract(path)
    assert_french_error(caught.value, ".docx")


@needs("libreoffice")
def test_legacy_doc_is_converted_by_libreoffice_and_read(tmp_path):
    document = docx.Document()
    document.add_heading("Tarifs de la cantine scolaire", level=1)
    document.add_paragraph("Le conseil municipal fixe le prix du repas à 3,20 € à compter du 1er septembre.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Pour", "15"
    document.add_paragraph("Adopté à l'unanimité.")
    document.save(tmp_path / "ancien.docx")
    # A real Word 97-2003 binary, written by LibreOffice itself (private profile, like the application's).
    subprocess.run(
        [
            extraction.readers.soffice_binary(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "doc:MS Word 97",
            "--outdir",
            str(tmp_path / "doc"),
            str(tmp_path / "ancien.docx"),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    path = tmp_path / "doc" / "ancien.doc"
    assert path.read_bytes().startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # OLE container: not a .docx

    result = extract(path)

    assert result.mime_type == "application/msword"
    assert [page.number for page in result.pages] == [1]
    assert result.pages[0].text.split("\n") == [
        "Tarifs de la cantine scolaire",
        "Le conseil municipal fixe le prix du repas à 3,20 € à compter du 1er septembre.",
        "Pour | 15",
        "Adopté à l'unanimité.",
    ]


def test_ocr_available_is_a_bool():
    assert isinstance(ocr_available(), bool)
