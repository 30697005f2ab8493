"""Personal data in French text → placeholders ([PERSONNE_1], [EMAIL_1]…) before it reaches a model, and back.
Patterns find e-mails, phones, NIR, IBAN and addresses; civility rules and spaCy's French NER find people."""

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

KINDS = ("PERSONNE", "EMAIL", "TEL", "ADRESSE", "NIR", "IBAN")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass
class Pseudonymised:
    text: str
    mapping: dict[str, str]  # placeholder -> original

    def restore(self, text: str) -> str:
        return restore(text, self.mapping)


def pseudonymise(text: str, *, known: dict[str, str] | None = None) -> Pseudonymised:
    """Replace personal data in `text` by placeholders.

    `known` (placeholder -> original) is updated in place: pass the same dict for every text of one
    request so that one person keeps one placeholder across question, passages and history.
    """
    mapping = {} if known is None else known
    spans = find_entities(text, known=[o for p, o in mapping.items() if p.startswith("[PERSONNE_")])
    by_original = {original: placeholder for placeholder, original in mapping.items()}
    pieces, position = [], 0
    for span in spans:
        original = text[span.start : span.end]
        if original not in by_original:
            by_original[original] = _new_placeholder(span.kind, mapping)
            mapping[by_original[original]] = original
        pieces += [text[position : span.start], by_original[original]]
        position = span.end
    pieces.append(text[position:])
    return Pseudonymised("".join(pieces), mapping)


def _new_placeholder(kind: str, mapping: dict[str, str]) -> str:
    """The next number of that kind: never one already in `known`, even if it came with gaps."""
    used = [
        int(p[len(kind) + 2 : -1]) for p in mapping if p.startswith(f"[{kind}_") and p[len(kind) + 2 : -1].isdigit()
    ]
    return f"[{kind}_{max(used, default=0) + 1}]"


# Models copy placeholders faithfully but not always to the letter: "PERSONNE_1", "[Personne 1]".
# Without brackets the underscore is required, so the French word "personne" is never taken for one.
_KIND = "|".join(KINDS)
_WRITTEN_PLACEHOLDER = re.compile(rf"\[\s*({_KIND})[_ ]?(\d+)\s*\]|\b({_KIND})_(\d+)\b", re.IGNORECASE)


def restore(text: str, mapping: dict[str, str]) -> str:
    def original(match: re.Match) -> str:
        placeholder = f"[{(match[1] or match[3]).upper()}_{match[2] or match[4]}]"
        return mapping.get(placeholder, match[0])

    return _WRITTEN_PLACEHOLDER.sub(original, text)


def find_entities(text: str, *, known: Iterable[str] = ()) -> list[Span]:
    """Non-overlapping spans of personal data, in text order. Patterns win over people; `known`
    holds names already masked elsewhere in the request, masked here too wherever they appear."""
    kept = _first_come(_pattern_spans(text))
    places = [Span(m.start(), m.end(), "") for m in _UNNUMBERED_PLACE.finditer(text)]
    people = _merge_people([s for s in _person_spans(text) if not _overlaps(s, kept + places)])
    people += [s for s in _propagated(text, people, known) if not _overlaps(s, kept + places + people)]
    return sorted(kept + people, key=lambda s: s.start)


# --- patterns -----------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s.-]?\d{2}){4}(?!\d)")
# Sex, year, month (20-99: special codes), département (2A/2B: Corsica), commune, order, key.
_NIR = re.compile(
    r"(?<![\w])[12][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?(?:\d{2}|2[AB])"
    r"[\s.]?\d{3}[\s.]?\d{3}[\s.]?\d{2}(?!\d)"
)
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])", re.IGNORECASE)

_STREET_TYPES = (
    r"rue|rues|ruelle|avenue|av\.|boulevard|bd|bld|chemin|place|allée|allee|impasse|route|quai|cours|"
    r"lotissement|résidence|square|faubourg|passage|sentier|voie|cité|hameau|lieu-dit|rond-point|"
    r"esplanade|promenade|parvis|venelle|chaussée|montée|mail|clos|domaine"
)
_CIVILITY_WORDS = r"Monsieur|Madame|Mademoiselle|Messieurs|Mesdames|M\.|Mme|Mlle|MM|MME|MMES"
_WORD = r"[^\W\d_][\w'’-]*"
_CAPITALISED = rf"(?!(?i:{_CIVILITY_WORDS})(?!\w))[A-ZÀ-ÖØ-Þ][\w'’-]*"
_PARTICLES = r"(?i:(?:de\s+la|des|du|de|la|le|les|aux|au|saint|sainte|st|ste)\s+|(?:de\s+l|d|l)['’]\s*)"
# "rue des grèves", "rue du Général de Gaulle", "place du 8 Mai 1945": after the first word, only
# capitalised words, numbers or particle groups, so the street's name stops where the sentence goes on.
_STREET_NAME = (
    rf"{_PARTICLES}*{_WORD}"
    rf"(?:\s+(?:{_PARTICLES}+(?!une?\b){_WORD}|{_CAPITALISED}|\d{{1,4}}(?!\d))){{0,6}}"
)
_POSTCODE_CITY = rf"(?:\s*,?\s*(?:à\s+)?\d{{5}}\s+{_CAPITALISED}(?:[\s-]+{_PARTICLES}*{_CAPITALISED}){{0,4}})"
_HOUSE_NUMBER = r"(?i:n°\s?|no\s?)?\d{1,4}(?:\s?(?i:bis|ter|quater)\b|[A-D]\b)?"
_ADDRESS = re.compile(
    rf"(?<![\w/-]){_HOUSE_NUMBER}(?:\s*(?:-|/|et|à)\s*{_HOUSE_NUMBER})?,?\s+(?i:{_STREET_TYPES})\.?\s+"
    rf"{_STREET_NAME}{_POSTCODE_CITY}?(?:\s+(?i:cedex)(?:\s+\d{{1,2}}(?!\d))?)?"
)
# Without a number a street names no one, but "rue Victor Hugo" or "salle Victor HUGO" must not be
# taken for a person either: these spans only keep people out.
_UNNUMBERED_PLACE = re.compile(
    rf"(?<!\w)(?:(?i:{_STREET_TYPES})\s+{_PARTICLES}*{_CAPITALISED}(?:\s+(?:{_PARTICLES}*{_CAPITALISED})){{0,4}}"
    rf"|(?i:salle|école|collège|lycée|stade|gymnase|parc|jardin|hôpital|médiathèque|bibliothèque|musée|"
    rf"espace|complexe|théâtre|piscine|halle)\s+{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}})"
)


def _pattern_spans(text: str) -> list[Span]:
    """Candidates in priority order: an IBAN or a NIR also contains something shaped like a phone."""
    spans = [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    spans += [Span(m.start(), m.end(), "IBAN") for m in _IBAN.finditer(text) if _is_iban(m[0])]
    spans += [Span(m.start(), m.end(), "NIR") for m in _NIR.finditer(text)]
    spans += [Span(m.start(), m.end(), "TEL") for m in _PHONE.finditer(text)]
    spans += [Span(m.start(), m.end(), "ADRESSE") for m in _ADDRESS.finditer(text)]
    return spans


def _is_iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    # A French IBAN with a typo is still someone's account; elsewhere the checksum keeps reference
    # numbers of the same shape out.
    return int(digits) % 97 == 1 or (compact.startswith("FR") and len(compact) == 27)


# --- people -------------------------------------------------------------------------------------

# Words around a name that are not part of it: institutions, titles, and what comes before a
# company or a place rather than a person.
_STOP_WORDS = frozenset(
    {
        "adjoint",
        "adjointe",
        "bonjour",
        "cabinet",
        "commune",
        "conseil",
        "conseiller",
        "conseillère",
        "cordialement",
        "département",
        "député",
        "député-maire",
        "direction",
        "directeur",
        "directrice",
        "état",
        "liste",
        "madame",
        "maire",
        "mairie",
        "messieurs",
        "mesdames",
        "ministre",
        "monsieur",
        "préfecture",
        "préfet",
        "préfète",
        "président",
        "présidente",
        "procureur",
        "rapporteur",
        "receveur",
        "région",
        "république",
        "secrétaire",
        "sénateur",
        "service",
        "suppléant",
        "suppléante",
        "titulaire",
        "trésorier",
        "ville",
    }
)
_TITLES = frozenset(
    {
        "monsieur",
        "madame",
        "mademoiselle",
        "messieurs",
        "mesdames",
        "m.",
        "m",
        "mm",
        "mm.",
        "mme",
        "mmes",
        "mlle",
        "mr",
        "me",
        "maître",
        "maitre",
        "dr",
        "dr.",
        "docteur",
        "pr",
        "professeur",
        "colonel",
        "général",
        "capitaine",
    }
)
_NOT_BEFORE_A_PERSON = frozenset(
    {
        "association",
        "société",
        "entreprise",
        "cabinet",
        "club",
        "commerce",
        "magasin",
        "quartier",
        "lieudit",
        "lieu-dit",
        "rues",
        "ville",
        "commune",
        "village",
    }
)
_NOT_A_FIRST_WORD = (
    r"(?i:[ld]['’]|(?:un|une|le|la|les|du|des|au|aux|ce|cette|ces|saint|sainte|st|ste|ets|"
    r"établissements|sté|société|sarl|sas|sci|eurl|groupe|club|association)\s)"
)

_NAME_PARTICLES = r"(?:de|du|des|d['’]|De|DE|Du|DU|D['’]|le|la|Le|La|LE|LA|van|von|dit|DIT)"
_INITIALS = r"(?:[A-ZÀ-Þ]\.\s*-?)+"
# Minutes shout whole sentences ("MADAME FAUCHON QUI S'ABSTIENNENT"): a name stops at a function word.
_NAME_WORD = (
    r"(?!(?:ET|OU|QUI|QUE|A|À|AU|AUX|EST|SONT|ONT|NE|N'|SE|S'|POUR|PAR|EN|DONT|AINSI)\b)"
    rf"(?!(?i:{_CIVILITY_WORDS})(?!\w))[A-ZÀ-ÖØ-Þ](?:[\w'’-]+|(?![.\w]))"
)
_PERSON_NAME = (
    rf"(?:{_INITIALS})?(?:{_NAME_PARTICLES}\s*)?{_NAME_WORD}"
    rf"(?:\s+(?:{_NAME_PARTICLES}\s+)?{_NAME_WORD}){{0,3}}"
)


def _person_spans(text: str) -> list[Span]:
    return _civility_spans(text) + _attendance_spans(text) + _capitalised_surname_spans(text) + _ner_spans(text)


# Besides civilities, words that announce a name in a letter or a deed: "née LEPRIEUR", "ma fille Inès",
# "pouvoir donné à Jean-Pierre".
_CIVILITY = (
    r"(?:(?i:monsieur|madame|mademoiselle|messieurs|mesdames|ma[iî]tre|docteur|née|épouse|veuve|époux|"
    r"fils|fille|voisin|voisine|pouvoir\s+donné\s+à|procuration\s+à)|M\.|MM\.?|Mmes?\.?|"
    r"MMES?\.?|Mlle|Mr\.?|MR|Me|Dr\.?|M(?=\s+[A-ZÀ-Þ]{2}))"
)
_PLURAL_CIVILITIES = frozenset({"messieurs", "mesdames", "mm", "mmes"})
# Civility stays outside the placeholder ("M. [PERSONNE_1]"); "Monsieur et Madame X" is one civility.
_CIVILITY_NAME = re.compile(
    rf"(?<![\w.])(?P<civility>{_CIVILITY}(?:\s+(?i:et)\s+{_CIVILITY})?)(?:(?<=\.)\s*|\s+)(?P<name>{_PERSON_NAME})"
)
# After a plural civility, a list: "MM LAINE, PENNEC [À PARTIR DE…], COSSEC", "messieurs CLAVEAU et SIRI".
_LIST_NEXT = re.compile(
    rf"\s*(?:\[[^\]]{{0,80}}\]|\([^)]{{0,80}}\))?\s*(?:,|\bet\b|\bET\b)\s*(?!{_CIVILITY}[\s.])(?P<name>{_PERSON_NAME})"
)


def _civility_spans(text: str) -> list[Span]:
    spans = []
    for match in _CIVILITY_NAME.finditer(text):
        spans += _trimmed(text, match.start("name"), match.end("name"), after_civility=True)
        if match["civility"].lower().rstrip(".") in _PLURAL_CIVILITIES:
            position = match.end()
            while next_name := _LIST_NEXT.match(text, position):
                spans += _trimmed(text, next_name.start("name"), next_name.end("name"), after_civility=True)
                position = next_name.end()
    return spans


# Attendance lists name people by their first name alone: "Présents : Jean-Pierre, Yves, David & Adeline
# (procuration à Mario)". After the label, every capitalised item of the list is a person.
_ATTENDANCE_LABEL = re.compile(
    r"(?i:étaient\s+présents|présents?|présentes?|absents?|absentes?|excusés?|excusées?)"
    r"(?:\s+(?i:excusés?|excusées?))?\s*:\s*"
)
_LIST_ITEM = re.compile(
    r"(?P<name>[A-ZÀ-Þ][\w'’-]+(?:[ \t]+[A-ZÀ-Þ][\w'’-]+){0,2})\s*(?:\([^)]{0,80}\))?"
    r"(?P<separator>\s*(?:[,/&]|\bet\b)\s*)?"
)


def _attendance_spans(text: str) -> list[Span]:
    spans = []
    for label in _ATTENDANCE_LABEL.finditer(text):
        position = label.end()
        while item := _LIST_ITEM.match(text, position):
            spans += _trimmed(text, item.start("name"), item.end("name"), after_civility=True)
            if not item["separator"]:
                break
            position = item.end()
    return spans


# French administrative writing puts surnames in capitals: "Annie PARENT", "Jean-Claude TESSIER". Two
# vowels at least keep acronyms out ("Subvention DRAC", "Coût HT"); so does an article before.
_FIRST_NAME_SURNAME = re.compile(
    r"(?<![\w'’-])(?P<first>[A-ZÀ-Þ][a-zà-ÿ]+(?:-[A-ZÀ-Þ][a-zà-ÿ]+)?)\s+"
    r"(?P<last>(?:(?:DE|DU|LE|LA)\s+)?[A-ZÀ-Þ]{2,}(?:[-'’][A-ZÀ-Þ]+)*)(?![\w'’-])"
)


def _capitalised_surname_spans(text: str) -> list[Span]:
    spans = []
    for match in _FIRST_NAME_SURNAME.finditer(text):
        first, last = match["first"].lower(), match["last"].split()[-1]
        before = text[max(0, match.start() - 8) : match.start()]
        after_article = re.search(r"\b(?i:le|la|les|un|une|du|des|au|aux)\s+\Z", before)
        if (
            after_article
            or first in _STOP_WORDS
            or first in _TITLES
            or re.match(_NOT_A_FIRST_WORD, first + " ")
            or re.fullmatch(_CIVILITY_WORDS, last)
            or len(re.findall(r"[AEIOUYÀ-ÖØ-Ý]", last)) < 2
        ):
            continue
        spans.append(Span(match.start(), match.end(), "PERSONNE"))
    return spans


def _trimmed(text: str, start: int, end: int, *, after_civility: bool = False) -> list[Span]:
    """The name alone, without titles, institutional words or what follows them; none if nothing is left."""
    words = [(m.start() + start, m.end() + start, m[0]) for m in re.finditer(r"\S+", text[start:end])]
    names: list[int] = []
    for i, (_, _, word) in enumerate(words):
        plain = word.lower().rstrip(",:;")
        is_title = plain in _TITLES or plain.rstrip(".") in _TITLES
        # After a civility "M." is an initial ("Madame M. FAUCHON"); inside what NER found it is the civility.
        if re.fullmatch(_INITIALS, word) and (after_civility or not is_title):
            continue
        if is_title and not after_civility:
            names.clear()  # what NER took before the civility is not the name: "Courrier de M. Dupont"
        elif plain.rstrip(".") in _STOP_WORDS or is_title:
            if names or after_civility:
                break  # "NICOLAS, Maire", "Lise CANTEL Professeur des Écoles", "Monsieur le Maire"
        elif word[0].isupper() and not re.fullmatch(_NAME_PARTICLES, word):
            names.append(i)
    if not names:
        return []
    first, last = names[0], names[-1]
    # Initials and particles before the first name word belong to it ("P. COCHAT", "LE GALL").
    while (
        first > 0
        and re.fullmatch(rf"{_INITIALS}|{_NAME_PARTICLES}", words[first - 1][2])
        and (after_civility or words[first - 1][2].lower() not in _TITLES)
    ):
        first -= 1
    if not after_civility and words[first][2].islower():
        first += 1  # "de Patton": NER's lowercase particle is the sentence's, not the name's
    end = words[last][1] - (len(words[last][2]) - len(words[last][2].rstrip(".,;:!?)»\"'’")))
    return [Span(words[first][0], end, "PERSONNE")]


_nlp = None
_nlp_lock = threading.Lock()


def _ner():
    """fr_core_news_sm with its NER alone (its own tok2vec: the other pipes are not needed), loaded once."""
    global _nlp
    if _nlp is None:
        with _nlp_lock:
            if _nlp is None:
                import spacy

                _nlp = spacy.load(
                    "fr_core_news_sm",
                    exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"],
                )
    return _nlp


# The same texts come back call after call (a reply draft masks the same passages and past replies as the
# last one): NER is ~70 % of a draft's CPU, so a worker runs it once per distinct text (bench/replies/DRAFTING.md).
NER_CACHE_TEXTS = 4096  # a few MB of texts at most


def _ner_spans(text: str) -> list[Span]:
    return list(_ner_spans_of(text))


@lru_cache(maxsize=NER_CACHE_TEXTS)
def _ner_spans_of(text: str) -> tuple[Span, ...]:
    nlp = _ner()
    # spaCy does not promise thread-safe inference (the vocabulary grows as it reads); a call takes
    # a few milliseconds, so the worker threads take turns.
    with _nlp_lock:
        doc = nlp(text)
    spans = []
    for entity in doc.ents:
        if entity.label_ != "PER":
            continue
        # One entity sometimes runs over two lines of a list ("Peggy COCHAT \n-  Philippe DROULLOURS").
        start = entity.start_char
        for piece in re.split(r"(\s*\n\s*[-–•]?\s*|,\s*|;\s*|\s+et\s+|\s+[-–]\s+)", entity.text):
            spans += [s for s in _trimmed(text, start, start + len(piece)) if _believable(text, s)]
            start += len(piece)
    return tuple(spans)


def _believable(text: str, span: Span) -> bool:
    """Drops what NER tags as a person in minutes but is not one."""
    name = text[span.start : span.end]
    words = [w for w in name.split() if len(w.rstrip(".")) > 1]
    window = text[max(0, span.start - 40) : span.start]
    before = re.search(r"([^\W\d_]+)[^\w\n]*\Z", window)
    previous = before[1].lower() if before else ""
    if not words or any(c.isdigit() for c in name) or re.match(_NOT_A_FIRST_WORD, name):
        return False  # "ARTICLES L-2122.22", "L’ARS", "Un Registre", "Ets Blanchet"
    if re.search(r"(?i)\b(?:saint|sainte|st|ste)\b|\s(?:le|la|les|sur|sous|en|lès)\s", name):
        return False  # places: "Saint-Loup", "Avranches-Mont Saint Michel", "Isigny le Buat"
    if previous in _NOT_BEFORE_A_PERSON:
        return False  # "l’association Passerelles", "quartier Mermoz"
    # The tail of a place ("Saint \nJean le Thomas", "Le Mesnil Drey", "la Jourdanière", "l’Avranchin",
    # "rue des Fontaines Couvertes") or a quoted business name ("‘’MP Conduite formation’’"):
    # in French no article comes before a person's name.
    if re.search(r"\b(?i:saint|sainte|st|ste|le|la|les|l['’]|du|des)[\s-]*\Z|(?:[«‘“\"]|‘’|'')\s*\Z", window):
        return False
    if len(words) > 1:
        return not all(w.isupper() for w in words)  # a shouted heading: "PROCES VERBAL"
    # One word alone: a surname in capitals, or a mixed-case word inside prose ("sa fille Ashley"),
    # not a capitalised common word opening a line or a clause ("Dépenses", "(Intérêts"), nor "HT".
    return len(words[0]) > 2 and (words[0].isupper() or previous[:1].islower())


def _merge_people(spans: list[Span]) -> list[Span]:
    """Civility rules and NER often find the same person with different edges: keep the union."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end), "PERSONNE")
        else:
            merged.append(span)
    return merged


def _propagated(text: str, people: list[Span], known: Iterable[str]) -> list[Span]:
    """Every other mention of a name found once: "M. NICOLAS" makes "Liste NICOLAS" a person too."""
    names = {text[s.start : s.end] for s in people} | set(known)
    # A surname alone ("M. Dupont" → "Dupont") is searched too: minutes often name someone once in full.
    names |= {n.split()[-1] for n in names if len(n.split()) > 1 and len(n.split()[-1]) > 2}
    names = {n for n in names if n.lower() not in _STOP_WORDS}
    if not names:
        return []
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")
    return [Span(m.start(), m.end(), "PERSONNE") for m in pattern.finditer(text)]


def _first_come(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in spans:
        if not _overlaps(span, kept):
            kept.append(span)
    return kept


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span.start < other.end and other.start < span.end for other in others)
