"""Rules that find the deliberations recorded in council minutes (procès-verbal, compte rendu): numbered
items, decision formulas and vote counts. Plain text in, proposals out."""

import re
from datetime import date

from .attendance import attendance, session_date
from .items import FOOTER, Item, find_items, ocr_cleaned
from .text import EXCERPT_CHARS, Attendance, Proposal, Text, assemble, fold, squash
from .votes import SUBHEADING, Decision, decision_label, find_decisions, parse_votes


def propose(pages) -> tuple[list[Proposal], date | None, Attendance]:
    """The deliberations of the minutes by rules alone, the session date, the attendance."""
    text = assemble(pages)
    decisions = find_decisions(text)
    items = find_items(text, decisions)
    opening = text.folded[: min(decisions[0].start if decisions else 15000, 15000)]
    presence = attendance(opening)
    proposals = []
    for decision in decisions:
        item = next((i for i in items if i.start <= decision.start < i.end), None)
        siblings = [d for d in decisions if item and item.start <= d.start < item.end]
        previous = max((d.end for d in decisions if d.end <= decision.start), default=0)
        segment_start = max(previous, item.title_end if item else 0)
        proposals.append(_proposal(text, decision, item, len(siblings), segment_start, presence))
    return proposals, session_date(text, until=decisions[0].start if decisions else 8000), presence


def _proposal(
    text: Text, decision: Decision, item: Item | None, siblings: int, segment_start: int, presence: Attendance
) -> Proposal:
    window = text.folded[decision.start : decision.end]
    segment = text.folded[segment_start : decision.start]
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
        objet=objet,
        decision=decision_label(window, decision.verb, fields, unanimous),
        excerpt=squash(text.raw[decision.start : decision.end])[:EXCERPT_CHARS],
        confidence=round(max(0.05, min(0.99, confidence)), 2),
        page=text.page_at(item.start if item else decision.start),
        number=item.number if item else "",
        votes_derived=derived,
        notes=notes,
        offset=decision.start,
        **fields,
    )


def _objet(text: Text, decision: Decision, item: Item | None, siblings: int, segment_start: int) -> str:
    """The item's title; when one item holds several decisions, its title and the sub-heading (« A. … »,
    « 2 - … », a first line) that introduces this decision."""
    if item and siblings == 1:
        return item.title
    line = text.raw[decision.start : decision.end]
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
    lines = [
        line
        for line in text.raw[start:end].splitlines()
        if len(re.findall(r"[^\W\d_]", line)) >= 3 and not FOOTER.match(fold(line))
    ]
    for line in lines:  # « 1 - Affectation… » heads a decision, « 1- d'autoriser… » is one of its points
        if (marker := SUBHEADING.match(fold(line))) and line[marker.end() :][:1].isupper():
            return _short(line[marker.end() :])
    shouting = [
        line
        for line in lines
        if len(re.findall(r"[A-ZÀ-Ý]", line)) >= 10
        and sum(c.isupper() for c in line if c.isalpha()) > 0.85 * sum(c.isalpha() for c in line)
    ]
    return _short(shouting[0] if shouting else lines[0] if lines else "")


def _short(line: str) -> str:
    line = ocr_cleaned(squash(line)).strip(" :.-–")
    return line if len(line) <= 120 else line[:120].rsplit(" ", 1)[0] + "…"
