"""Rules that find the deliberations recorded in council minutes (procès-verbal, compte rendu): numbered
items, decision formulas and vote counts. Plain text in, proposals out."""

import re
from dataclasses import dataclass
from datetime import date

from .minutes_attendance import attendance, session_date
from .minutes_text import (
    EXCERPT_CHARS,
    NUMBER_WORDS,
    TITLE_CHARS,
    Attendance,
    Proposal,
    Text,
    assemble,
    count_names,
    fold,
    squash,
)

__all__ = ["Proposal", "Text", "assemble", "attendance", "count_names", "fold", "propose", "session_date", "squash"]

# --- items (numbered agenda points) ----------------------------------------------------------------

HEADER_FAMILIES = [
    ("dotted", re.compile(r"^[ \t]*(?:19|20)\d\d\.\d\d\.\d\d[ \t]*[-–—][ \t]*(\d{1,3})\b[ \t]*(.*)$", re.M)),
    ("question", re.compile(r"^[ \t]*question[ \t]*n[ \t]*[o°º][ \t.]*([0-9lio]{1,3})\b[ \t:.-]*(.*)$", re.M)),
    ("deliberation", re.compile(r"^[ \t]*deliberation[ \t]*n[ \t]*[o°º][ \t.]*([\w./-]{1,20})[ \t:.–-]*(.*)$", re.M)),
    ("objet", re.compile(r"^[ \t]*()objet[ \t]*:[ \t]*(\S.*)$", re.M)),
    ("numbered", re.compile(r"^[ \t]*(\d{1,2})[ \t]*[/).-](?![\d.])[ \t]*([a-z].*)$", re.M)),
    ("roman", re.compile(r"^[ \t]*([ivx]{1,5})[ \t]*[/).-]?[ \t]+([a-z].*)$", re.M)),
]
_CONNECTOR = re.compile(r"(?:de|du|des|d'|et|a|au|aux|la|le|les|en|pour|sur|par)\s")  # « DU REMPART… » goes on
_FOOTER = re.compile(r"^\s*(?:cm\s*[-–]|\d+\s*$|page\s+\d+)")
_DANGLING = re.compile(r"\b(?:a|a la|au|aux|de|de la|des|du|d'|et|en|la|le|les|l'|pour|sur|par)\s*$")


@dataclass
class Item:
    start: int
    end: int
    number: str
    title: str
    title_end: int


def find_items(text: Text, decisions: list) -> list[Item]:
    """Items of the family of headers that holds the most decisions (dotted numbers at Avranches,
    « 1/ » or roman numbers at Couthenans…); an agenda listed twice is harmless: items without a
    decision give no proposal."""
    best, best_score = [], 0
    for family, pattern in HEADER_FAMILIES:
        matches = [m for m in pattern.finditer(text.folded) if len(re.findall(r"[a-z]", m.group(0))) >= 3]
        if len(matches) < 2 and family not in ("dotted", "objet", "deliberation"):
            continue
        items = [_item(text, family, m, matches[i + 1].start() if i + 1 < len(matches) else len(text.folded))
                 for i, m in enumerate(matches)]
        score = sum(1 for item in items if any(item.start <= d.start < item.end for d in decisions))
        if score > best_score:
            best, best_score = items, score
    return best


def _item(text: Text, family: str, match: re.Match, end: int) -> Item:
    number = match.group(1).replace("l", "1").replace("i", "1").replace("o", "0") if family == "question" \
        else match.group(1).upper() if family == "roman" else match.group(1)
    lines, position = [], match.start(2)
    first = text.raw[match.start(2):match.end(2)].strip()
    if family == "dotted" and re.fullmatch(r"(?i)(bis|ter)?\s*", first):
        number, first = f"{number} {first.lower()}".strip(), ""
    if first:
        lines.append(first)
    position = match.end(2)
    blanks = 0
    while position < end and len(lines) < 4:
        line_end = text.raw.find("\n", position + 1)
        line_end = end if line_end < 0 or line_end > end else line_end
        line = text.raw[position:line_end].strip()
        folded_line = text.folded[position:line_end].strip()
        if not line:
            blanks += 1
            if blanks > 2:
                break
        elif _continues_title(line, folded_line, lines, family, blanks):
            if family == "dotted" and not lines and re.fullmatch(r"(?i)bis|ter", line):
                number = f"{number} {line.lower()}"
            else:
                lines.append(line)
            blanks = 0
        else:
            break
        position = line_end
    title = ocr_cleaned(squash(" ".join(lines))).strip(" :.-–")[:TITLE_CHARS]
    return Item(start=match.start(), end=end, number=number, title=title, title_end=position)


def ocr_cleaned(title: str) -> str:
    """« POLIT?QUE D'lNSERTION » → « POLITIQUE D'INSERTION »: slips of this corpus' OCR inside capitals."""
    title = re.sub(r"(?<=[A-Z])\?(?=[A-Z])", "I", title)
    return re.sub(r"(?<![A-Za-z])l(?=[A-Z]{2})", "I", title)


def _continues_title(line: str, folded_line: str, lines: list[str], family: str, blanks: int) -> bool:
    if _FOOTER.match(folded_line) or folded_line.startswith(("rapporteur", "-", "•")):
        return False
    if not lines:
        return True
    letters = [c for c in line if c.isalpha()]
    upper = len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) > 0.85
    unfinished = bool(_DANGLING.search(fold(lines[-1])) or re.search(r"[\d–-]\s*$", lines[-1]))
    if family in ("dotted", "question"):
        previous = [c for c in lines[-1] if c.isalpha()]
        return upper and sum(c.isupper() for c in previous) > 0.85 * len(previous) and (
            blanks == 0 or unfinished or bool(_CONNECTOR.match(folded_line)))
    return blanks == 0 and unfinished and len(line) < 120


# --- decisions and votes ---------------------------------------------------------------------------

_VERBS = (r"accepte|adopte|approuve|decide|rejette|refuse|emet|prend\s+acte|donne\s+acte|autorise|valide|elit|"
          r"designe|sollicite")
_COUNCIL = re.compile(r"\ble\s+conseil(?:\s+[a-z]{3,15})?\s*,?(?P<body>(?:(?!\.\s*\n\s*\n(?!\s*qui))[^;]){0,320}?)"
                      r"\b(?P<verb>" + _VERBS + r")\b", re.S)
_VOTE_EXPR = re.compile(r"unanimi|\ba\s+l'?\s*excep|\d+\s*(?:voix|votes?)|majorite|votants|abstention|\bcontre\b|"
                        r"apres\s+en\s+avoir\s+delibere|non.participation")
_FUZZY_UNANIMITY = re.compile(r"^\W*a\s+l'?[a-z]{6,12}\W*$")  # « A luwowiuiÏe, » : an OCR-mangled unanimity
_STANDALONE = re.compile(
    r"^[ \t•*-]*(?:(?:adoptee?s?|approuvee?s?|rejetee?s?|refusee?s?)\b(?:\W*$|[^\n]*(?:unanimi|\d|majorite)[^\n]*)"
    r"|adoption\s+(?:a|par)\s[^\n]*\d[^\n]*"
    r"|(?:[^\n]{0,60}:\s*)?\d+\s+(?:voix|votes?)\b(?:\s*[«\"]?\s*(?:pour|contre)|[\s,./]*(?:\d+\s*(?:abst|absent|contre|pour)|$|,))"
    r"[^\n]*"
    r"|\d+\s+(?:voix\s+)?(?:contre|abstentions?|absentions?|pour)\b[^\n]*\d[^\n]*"
    r"|pour\s*:\s*\d+[^\n]*"
    r"|(?:vote\s*:\s*)?a\s+l'unanimite\b[^\n]*"
    r"|[^\n]{0,60}\bretiree?s?\s+de\s+l'ordre\s+du\s+jour[^\n]*)$", re.M)
_INLINE = re.compile(r"\b(?:adoptee?s?|approuvee?s?|rejetee?s?)\s+(?:a\s+l'unanimite|par\s+\d+|a\s+la\s+majorite)[^\n]*"
                     r"|\bpar\s+\d+\s+voix\s+pour[^\n]*")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b(?=\s+(?:voix|votes?|"
                          r"contre|pour|abstentions?|non.participation|votants|conseillers|membres))")
_COUNTS = {
    "pour": (r"(\d+)\s*(?:voix|votes?)?\s*pour\b", r"\bpour\s*:\s*(\d+)"),
    "contre": (r"(\d+)\s*(?:voix|votes?)?\s*contre\b", r"\bcontre\s*:\s*(\d+)"),
    "abstention": (r"(\d+)\s*(?:abstentions?|absentions?)\b", r"\babstentions?\s*:\s*(\d+)"),
    "votants": (r"(\d+)\s*votants\b", r"\bvotants\s*:\s*(\d+)"),
}
_ROLE = re.compile(r"\b[qo]ui\s+(?:(?P<contre>vote(?:nt)?\s+contre)|(?P<abstention>s'?\s*abstien\w*)|"
                   r"(?P<absent>ne\s+(?:participe\w*|prenn?\w*|prend)\s+pas(?:\s+part)?\s+au\s+vote))")
_NOT_VOTING = re.compile(r"(?:\(|^)([^()\n]{2,150}?)\bne\s+(?:participe\w*|prenn?\w*|prend)\s+pas\s+"
                         r"(?:part\s+)?au\s+vote", re.M)
_SUBHEADING = re.compile(r"^[ \t]*(?:[a-h]|\d{1,2})[ \t]*[.)/-][ \t]+(?=\S)", re.M)


@dataclass
class Decision:
    start: int
    end: int
    verb: str = ""
    fuzzy: bool = False
    council: bool = False


def find_decisions(text: Text) -> list[Decision]:
    found = []
    for match in _COUNCIL.finditer(text.folded):
        body, verb = match.group("body"), squash(match.group("verb"))
        raw = text.raw[match.start():match.end()]
        fuzzy = bool(_FUZZY_UNANIMITY.match(body)) and not re.search(r"excep|unanimi", body)
        shouting = not body.strip(" ,\n") and sum(c.isupper() for c in raw) > 0.8 * sum(c.isalpha() for c in raw)
        if "acte" in verb or _VOTE_EXPR.search(body) or fuzzy or shouting:
            end = text.folded.find("\n", match.end())
            found.append(Decision(match.start(), end if end > 0 else match.end(), verb, fuzzy, council=True))
    for pattern in (_STANDALONE, _INLINE):
        found += [Decision(m.start(), m.end()) for m in pattern.finditer(text.folded)]
    found.sort(key=lambda d: d.start)
    merged: list[Decision] = []
    for decision in found:  # a council formula also matches the standalone patterns: keep one, widest
        if merged and decision.start <= merged[-1].end + 1:
            last = merged[-1]
            last.end = max(last.end, decision.end)
            last.verb, last.council = last.verb or decision.verb, last.council or decision.council
            continue
        merged.append(decision)
    return merged


def parse_votes(window: str, segment: str, presence: Attendance, *, fuzzy: bool = False):
    """(vote fields, derived?, notes, unanimous?) of one decision. `window` is its folded formula, `segment`
    the folded text before it in its item (where « X ne participe pas au vote » is written)."""
    window = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(1)]), re.sub(r"[«»\"“”]", " ", window))
    counts = {}
    for key, patterns in _COUNTS.items():
        for pattern in patterns:
            if match := re.search(pattern, window):
                counts[key] = int(match.group(1))
                break
    if "pour" not in counts and (bare := re.search(r"(?:^|:\s*)(\d+)\s+(?:voix|votes?)\s*(?:[,.]|$)", window.strip())):
        counts["pour"] = int(bare.group(1))
    unanimous = "unanimi" in window or fuzzy
    if "pour" in counts:
        fields = {"vote_pour": counts["pour"], "vote_contre": counts.get("contre", 0),
                  "vote_abstention": counts.get("abstention", 0)}
        fields["vote_reel"] = sum(fields.values())
        notes = [] if counts.get("votants") in (None, fields["vote_reel"]) else [
            f"Le texte annonce {counts['votants']} votants mais les voix s'additionnent à {fields['vote_reel']}."]
        return _with_effectif(fields, presence), False, notes, unanimous
    return _derived_votes(window, segment, presence, unanimous)


def _derived_votes(window: str, segment: str, presence: Attendance, unanimous: bool):
    by_role = {"contre": 0, "abstention": 0, "absent": 0}
    exception = re.search(r"\ba\s+l'?\s*excep\w*\s+(?:de\s+|des\s+)?(.+)", window, re.S)
    if exception:
        position, roles = 0, list(_ROLE.finditer(exception.group(1)))
        for role in roles:
            kind = next(k for k in by_role if role.group(k))
            by_role[kind] += count_names(exception.group(1)[position:role.start()])
            position = role.end()
        if not roles and (count := re.search(r"(\d+)\s*non.participations?", window)):
            by_role["absent"] += int(count.group(1))
        elif not roles:
            return {}, False, ["Formule « à l'exception de » illisible : votes à compléter."], False
    elif not unanimous:
        return {}, False, [], False
    by_role["absent"] += sum(count_names(m.group(1)) for m in _NOT_VOTING.finditer(segment))
    if presence.votants is None:
        detail = ", ".join(f"{n} {k}" for k, n in by_role.items() if n)
        return {}, False, [f"Nombre de votants introuvable : votes à compléter{f' ({detail})' if detail else ''}."], \
            unanimous
    reel = presence.votants - by_role["absent"]
    fields = {"vote_reel": reel, "vote_contre": by_role["contre"], "vote_abstention": by_role["abstention"],
              "vote_pour": reel - by_role["contre"] - by_role["abstention"]}
    if fields["vote_pour"] < 0:
        return {}, False, ["Décompte des voix incohérent : votes à compléter."], unanimous
    note = (f"Votes déduits : {presence.votants} votants (présents et pouvoirs de la séance)"
            + (f", {by_role['absent']} ne prenant pas part au vote" if by_role["absent"] else "")
            + (", noms comptés dans la formule de vote" if exception else "") + ".")
    return _with_effectif(fields, presence), True, [note], unanimous or not (by_role["contre"] or by_role["abstention"])


def _with_effectif(fields: dict, presence: Attendance) -> dict:
    if presence.exercice is not None and presence.exercice >= fields["vote_reel"]:
        fields["vote_effectif"] = presence.exercice
    return fields


def decision_label(window: str, verb: str, fields: dict, unanimous: bool) -> str:
    if re.search(r"retiree?s?\s+de\s+l'ordre\s+du\s+jour", window):
        return "Retirée de l'ordre du jour"
    if re.search(r"\bajourne", window):
        return "Ajournée"
    if verb in ("rejette", "refuse") or re.search(r"\b(?:rejetee?s?|refusee?s?)\b", window):
        return "Rejetée"
    if "acte" in verb:
        return "Prend acte"
    if verb == "emet":
        return "Avis défavorable" if "defavorable" in window else "Avis favorable"
    if fields.get("vote_pour") is not None and fields["vote_pour"] <= fields.get("vote_contre", 0):
        return "Rejetée"
    if unanimous:
        return "Adoptée à l'unanimité"
    return "Adoptée à la majorité" if "majorite" in window else "Adoptée"


# --- proposals -------------------------------------------------------------------------------------

def propose(pages) -> tuple[list[Proposal], date | None, Attendance]:
    """The deliberations of the minutes by rules alone, the session date, the attendance."""
    text = assemble(pages)
    decisions = find_decisions(text)
    items = find_items(text, decisions)
    opening = text.folded[:min(decisions[0].start if decisions else 15000, 15000)]
    presence = attendance(opening)
    proposals = []
    for decision in decisions:
        item = next((i for i in items if i.start <= decision.start < i.end), None)
        siblings = [d for d in decisions if item and item.start <= d.start < item.end]
        previous = max((d.end for d in decisions if d.end <= decision.start), default=0)
        segment_start = max(previous, item.title_end if item else 0)
        proposals.append(_proposal(text, decision, item, len(siblings), segment_start, presence))
    return proposals, session_date(text, until=decisions[0].start if decisions else 8000), presence


def _proposal(text: Text, decision: Decision, item: Item | None, siblings: int, segment_start: int,
              presence: Attendance) -> Proposal:
    window = text.folded[decision.start:decision.end]
    segment = text.folded[segment_start:decision.start]
    presence = presence.at(item.number) if item else presence
    fields, derived, notes, unanimous = parse_votes(window, segment, presence, fuzzy=decision.fuzzy)
    objet = _objet(text, decision, item, siblings, segment_start)
    confidence = 0.55 + (0.2 if item else -0.15) + (0.15 if decision.council else 0.1)
    confidence -= (0.2 if decision.fuzzy else 0) + (0.05 if derived else 0) + (0.05 if siblings > 1 else 0)
    if decision.fuzzy:
        notes.append("Formule de vote mal lue (OCR) : vérifiez l'unanimité.")
    if not objet:
        objet, confidence = "Objet à compléter", confidence - 0.2
    return Proposal(
        objet=objet, decision=decision_label(window, decision.verb, fields, unanimous),
        excerpt=squash(text.raw[decision.start:decision.end])[:EXCERPT_CHARS],
        confidence=round(max(0.05, min(0.99, confidence)), 2),
        page=text.page_at(item.start if item else decision.start), number=item.number if item else "",
        votes_derived=derived, notes=notes, offset=decision.start, **fields)


def _objet(text: Text, decision: Decision, item: Item | None, siblings: int, segment_start: int) -> str:
    """The item's title; when one item holds several decisions, its title and the sub-heading (« A. … »,
    « 2 - … », a first line) that introduces this decision."""
    if item and siblings == 1:
        return item.title
    line = text.raw[decision.start:decision.end]
    if (label := re.match(r"\s*([^\n:]{3,60}?)\s*:\s*\d+\s+(?:voix|votes?)", line)) and not re.search(r"\d", label[1]):
        sub = label.group(1)
    else:
        sub = _first_line(text, segment_start, decision.start)
    sub = re.sub(r"^\s*(?:vote\s+(?:de|du|des|sur)\s+)", "", sub, flags=re.I).strip(" :.-–")
    if not item or not item.title or re.search(r"questions?\s+diverses|informations?", fold(item.title)):
        return sub
    return f"{item.title} — {sub}" if sub else item.title


def _first_line(text: Text, start: int, end: int) -> str:
    """A sub-heading « B) Création d'un poste… » or « A. » over a line in capitals; else the first line."""
    lines = [line for line in text.raw[start:end].splitlines()
             if len(re.findall(r"[^\W\d_]", line)) >= 3 and not _FOOTER.match(fold(line))]
    for line in lines:  # « 1 - Affectation… » heads a decision, « 1- d'autoriser… » is one of its points
        if (marker := _SUBHEADING.match(fold(line))) and line[marker.end():][:1].isupper():
            return _short(line[marker.end():])
    shouting = [line for line in lines if len(re.findall(r"[A-ZÀ-Ý]", line)) >= 10
                and sum(c.isupper() for c in line if c.isalpha()) > 0.85 * sum(c.isalpha() for c in line)]
    return _short(shouting[0] if shouting else lines[0] if lines else "")


def _short(line: str) -> str:
    line = ocr_cleaned(squash(line)).strip(" :.-–")
    return line if len(line) <= 120 else line[:120].rsplit(" ", 1)[0] + "…"
