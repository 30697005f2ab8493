"""Session date and attendance (members in office, present, proxies, voters per question) read from
the preamble of council minutes."""

import re
from datetime import date

from .text import MONTHS, NUMBER_WORDS, Attendance, Text, count_names

# --- session date and attendance -------------------------------------------------------------------

_DATE = re.compile(
    r"\b(\d{1,2})(?:er)?\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b"
    r"|\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b"
)
_SESSION_CUE = re.compile(
    r"seance|reunion|conseil municipal|conseil communautaire|cr du conseil|c-r du conseil|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
)
_OTHER_DATE_CUE = re.compile(
    r"compte.?rendu|comptes.?rendus|convocation|affichage|precedente|transmis|recu|"
    r"deliberation"
)


def session_date(text: Text, *, until: int = 8000) -> date | None:
    """The meeting's date: a date near « séance / réunion / conseil municipal » in the opening (before the
    first decision), not the date of the notice, of the posting or of a meeting the minutes refer to."""
    best, best_score = None, 0
    head = text.folded[: min(until, 8000)]
    for match in _DATE.finditer(head):
        found = _as_date(match)
        if found is None:
            continue
        before = head[max(0, match.start() - 45) : match.start()]
        score = 3 if _SESSION_CUE.search(before) else 1
        score -= 5 if _OTHER_DATE_CUE.search(before) else 0
        score -= match.start() / 8000  # earlier is likelier
        if score > best_score:
            best, best_score = found, score
    return best or _date_in_words(head)


_WORDS_DATE = re.compile(r"l'an\s+deux\s+mille\s*([a-z -]*?)\s*,\s*le\s+([a-z -]+?)\s+(" + "|".join(MONTHS) + r")\b")


def _date_in_words(head: str) -> date | None:
    """« L'an deux mille dix-sept, le six mars » (when OCR has mangled the date in figures)."""
    if not (match := _WORDS_DATE.search(head)):
        return None
    year = 2000 + (NUMBER_WORDS.get(match.group(1).strip(), -1) if match.group(1).strip() else 0)
    day = 1 if match.group(2).strip() in ("premier", "1er") else NUMBER_WORDS.get(match.group(2).strip(), 0)
    try:
        return date(year, MONTHS.index(match.group(3)) + 1, day) if year >= 2000 else None
    except ValueError:
        return None


def _as_date(match: re.Match) -> date | None:
    try:
        if match.group(1):
            return date(int(match.group(3)), MONTHS.index(match.group(2)) + 1, int(match.group(1)))
        return date(int(match.group(6)), int(match.group(5)), int(match.group(4)))
    except ValueError:
        return None


_PROXY = re.compile(r"a\s+donne\s+po\w{3,6}r?\s+a|pouvoir\s+donne\s+a")


def attendance(preamble: str) -> Attendance:
    """Members in office, present, represented (proxies) and voting, from the opening of the minutes."""
    found = Attendance()
    table = _table_counts(preamble)
    found.exercice = table.get("exercice") or _number_near(preamble, r"en\s+exercice")
    found.presents = table.get("presents") or _number_near(preamble, r"en\s+seance|presents?")
    found.pouvoirs = table.get("pouvoirs") or _number_near(preamble, r"pouvoirs?|procurations?")
    found.votants = _number_near(preamble, r"votants")
    if found.pouvoirs is None and (proxies := len(_PROXY.findall(preamble)) or _pr_markers(preamble)):
        found.pouvoirs = proxies
    if found.presents is None:
        found.presents = _listed_presents(preamble)
    if found.votants is None and found.presents is not None:
        found.votants = found.presents + (found.pouvoirs or 0)
    _drop_implausible(found)
    found.by_question = _per_question(preamble, found)
    return found


def _drop_implausible(found: Attendance) -> None:
    """Misread numbers (OCR) give no count rather than a wrong one: a council has at least 7 members, and
    more than half of them present (the quorum) for its votes to stand."""
    if found.exercice is not None and found.exercice < 7:
        found.exercice = None
    if found.presents is not None and (found.presents < 4 or (found.exercice and found.presents * 2 <= found.exercice)):
        found.presents = found.votants = None
    if found.exercice is not None and found.votants is not None and found.votants > found.exercice:
        found.votants = None


_QUESTION = r"question\s+\S{0,3}?\s*(\d{1,2})"
_ARRIVAL = re.compile(r"a\s+partir\s+de\s+la\s+" + _QUESTION)
_ROLES = re.compile(r"\b(?:depute-maire|maire|adjoints?|conseillers?\s+municipa\w*)\b|[(\[][^)\]]*[)\]]")


def _per_question(preamble: str, found: Attendance) -> dict[int, int]:
    """Voters item by item when the list of those present says « (à partir de la question n°14) » or a
    proxy says « jusqu'à la question n°13 » / « pour la question n°1 ». Kept only when it agrees with the
    header's count at the opening or at the close of the meeting."""
    listing = re.search(
        r"etaient\s+presents?\s*:(.+?)(?:conseillers\s+municipaux|\n\s*pouvoirs?\b|secretaire)", preamble, re.S
    )
    proxies = [line for line in preamble.splitlines() if _PROXY.search(line)]
    arrivals = [int(m.group(1)) for m in _ARRIVAL.finditer(listing.group(1))] if listing else []
    bounded = [line for line in proxies if re.search(r"jusqu.{0,3}a\s+la\s+|pour\s+la\s+" + _QUESTION, line)]
    if not listing or not (arrivals or bounded) or found.votants is None:
        return {}
    present = count_names(_ROLES.sub(",", listing.group(1)))
    counts = {
        q: present - sum(q < x for x in arrivals) + sum(_proxy_valid(line, q) for line in proxies) for q in range(1, 61)
    }
    return counts if found.votants in (counts[1], counts[60]) else {}


def _proxy_valid(line: str, question: int) -> bool:
    if until := re.search(r"jusqu.{0,3}a\s+la\s+" + _QUESTION, line):
        return question <= int(until.group(1))
    if only := re.search(r"pour\s+la\s+" + _QUESTION, line):
        return question == int(only.group(1))
    if since := re.search(r"a\s+partir\s+de\s+la\s+" + _QUESTION, line):
        return question >= int(since.group(1))
    return True


def _table_counts(preamble: str) -> dict:
    """Avranches' header table, linearised by PDF extraction: the labels first, then their numbers."""
    labels = [
        (m.start(), key)
        for key, pattern in (
            ("exercice", r"en\s+exercice"),
            ("presents", r"en\s+seance"),
            ("pouvoirs", r"^\s*pouvoirs\s*:"),
        )
        for m in [re.search(pattern, preamble, re.M)]
        if m
    ]
    if len(labels) < 2:
        return {}
    labels.sort()
    numbers = [int(n) for n in re.findall(r"^\s*(\d{1,3})\s*$", preamble[labels[-1][0] : labels[-1][0] + 500], re.M)]
    return {key: number for (_, key), number in zip(labels, numbers, strict=False)}


def _number_near(preamble: str, label: str) -> int | None:
    match = re.search(rf"(?:{label})\s*:?\s*(\d{{1,3}})\b(?![/.,]\d)", preamble) or re.search(
        rf"\b(\d{{1,3}})\s+(?:conseillers\s+|membres\s+|elus\s+)?(?:{label})", preamble
    )
    return int(match.group(1)) if match else None


def _pr_markers(preamble: str) -> int:
    """Couthenans marks proxies « Marielle (Pr**) » in the list of the excused."""
    absent = re.search(r"absents?\s+excuses?\s*:(.+?)(?:\.\s*\n|\n\s*\n|$)", preamble, re.S)
    return len(re.findall(r"\(pr\*+\)", absent.group(1))) if absent else 0


def _listed_presents(preamble: str) -> int | None:
    match = re.search(r"\bpresents?\s*:\s*(.+?)(?:\.\s*\n|\n\s*\n|$)", preamble, re.S)
    if not match:
        return None
    names = [p for p in match.group(1).split(",") if re.search(r"[a-z]{2,}", p)]
    return len(names) if 2 <= len(names) <= 80 else None
