"""Where minutes record a decision (« Le conseil municipal, après en avoir délibéré, ADOPTE… »), and
its vote: counts written in figures or words, unanimity, those against or abstaining, those absent."""

import re
from dataclasses import dataclass

from .text import NUMBER_WORDS, Attendance, Text, count_names, squash

_VERBS = (
    r"accepte|adopte|approuve|decide|rejette|refuse|emet|prend\s+acte|donne\s+acte|autorise|valide|elit|"
    r"designe|sollicite"
)
_COUNCIL = re.compile(
    r"\ble\s+conseil(?:\s+[a-z]{3,15})?\s*,?(?P<body>(?:(?!\.\s*\n\s*\n(?!\s*qui))[^;]){0,320}?)"
    r"\b(?P<verb>" + _VERBS + r")\b",
    re.S,
)
_VOTE_EXPR = re.compile(
    r"unanimi|\ba\s+l'?\s*excep|\d+\s*(?:voix|votes?)|majorite|votants|abstention|\bcontre\b|"
    r"apres\s+en\s+avoir\s+delibere|non.participation"
)
_FUZZY_UNANIMITY = re.compile(r"^\W*a\s+l'?[a-z]{6,12}\W*$")  # « A luwowiuiÏe, » : an OCR-mangled unanimity
_STANDALONE = re.compile(
    r"^[ \t•*-]*(?:(?:adoptee?s?|approuvee?s?|rejetee?s?|refusee?s?)\b(?:\W*$|[^\n]*(?:unanimi|\d|majorite)[^\n]*)"
    r"|adoption\s+(?:a|par)\s[^\n]*\d[^\n]*"
    r"|(?:[^\n]{0,60}:\s*)?\d+\s+(?:voix|votes?)\b(?:\s*[«\"]?\s*(?:pour|contre)|[\s,./]*(?:\d+\s*(?:abst|absent|contre|pour)|$|,))"
    r"[^\n]*"
    r"|\d+\s+(?:voix\s+)?(?:contre|abstentions?|absentions?|pour)\b[^\n]*\d[^\n]*"
    r"|pour\s*:\s*\d+[^\n]*"
    r"|(?:vote\s*:\s*)?a\s+l'unanimite\b[^\n]*"
    r"|[^\n]{0,60}\bretiree?s?\s+de\s+l'ordre\s+du\s+jour[^\n]*)$",
    re.M,
)
_INLINE = re.compile(
    r"\b(?:adoptee?s?|approuvee?s?|rejetee?s?)\s+(?:a\s+l'unanimite|par\s+\d+|a\s+la\s+majorite)[^\n]*"
    r"|\bpar\s+\d+\s+voix\s+pour[^\n]*"
)
_NUMBER_WORD = re.compile(
    r"\b(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b(?=\s+(?:voix|votes?|"
    r"contre|pour|abstentions?|non.participation|votants|conseillers|membres))"
)
_COUNTS = {
    "pour": (r"(\d+)\s*(?:voix|votes?)?\s*pour\b", r"\bpour\s*:\s*(\d+)"),
    "contre": (r"(\d+)\s*(?:voix|votes?)?\s*contre\b", r"\bcontre\s*:\s*(\d+)"),
    "abstention": (r"(\d+)\s*(?:abstentions?|absentions?)\b", r"\babstentions?\s*:\s*(\d+)"),
    "votants": (r"(\d+)\s*votants\b", r"\bvotants\s*:\s*(\d+)"),
}
_ROLE = re.compile(
    r"\b[qo]ui\s+(?:(?P<contre>vote(?:nt)?\s+contre)|(?P<abstention>s'?\s*abstien\w*)|"
    r"(?P<absent>ne\s+(?:participe\w*|prenn?\w*|prend)\s+pas(?:\s+part)?\s+au\s+vote))"
)
_NOT_VOTING = re.compile(
    r"(?:\(|^)([^()\n]{2,150}?)\bne\s+(?:participe\w*|prenn?\w*|prend)\s+pas\s+"
    r"(?:part\s+)?au\s+vote",
    re.M,
)
SUBHEADING = re.compile(r"^[ \t]*(?:[a-h]|\d{1,2})[ \t]*[.)/-][ \t]+(?=\S)", re.M)


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
        raw = text.raw[match.start() : match.end()]
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
        fields = {
            "vote_pour": counts["pour"],
            "vote_contre": counts.get("contre", 0),
            "vote_abstention": counts.get("abstention", 0),
        }
        fields["vote_reel"] = sum(fields.values())
        notes = (
            []
            if counts.get("votants") in (None, fields["vote_reel"])
            else [f"Le texte annonce {counts['votants']} votants mais les voix s'additionnent à {fields['vote_reel']}."]
        )
        return _with_effectif(fields, presence), False, notes, unanimous
    return _derived_votes(window, segment, presence, unanimous)


def _derived_votes(window: str, segment: str, presence: Attendance, unanimous: bool):
    by_role = {"contre": 0, "abstention": 0, "absent": 0}
    exception = re.search(r"\ba\s+l'?\s*excep\w*\s+(?:de\s+|des\s+)?(.+)", window, re.S)
    if exception:
        position, roles = 0, list(_ROLE.finditer(exception.group(1)))
        for role in roles:
            kind = next(k for k in by_role if role.group(k))
            by_role[kind] += count_names(exception.group(1)[position : role.start()])
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
        return (
            {},
            False,
            [f"Nombre de votants introuvable : votes à compléter{f' ({detail})' if detail else ''}."],
            unanimous,
        )
    reel = presence.votants - by_role["absent"]
    fields = {
        "vote_reel": reel,
        "vote_contre": by_role["contre"],
        "vote_abstention": by_role["abstention"],
        "vote_pour": reel - by_role["contre"] - by_role["abstention"],
    }
    if fields["vote_pour"] < 0:
        return {}, False, ["Décompte des voix incohérent : votes à compléter."], unanimous
    note = (
        f"Votes déduits : {presence.votants} votants (présents et pouvoirs de la séance)"
        + (f", {by_role['absent']} ne prenant pas part au vote" if by_role["absent"] else "")
        + (", noms comptés dans la formule de vote" if exception else "")
        + "."
    )
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
