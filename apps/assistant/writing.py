"""The writing tools of the assistant (summary, key points, plain language, comparison, minutes, e-mail,
spelling): what each accepts, how a request is checked, and how a worker runs it on a ModelSession."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from apps import inference
from apps.deliberations.similar import comparison_text, visible_deliberation
from apps.documents.models import Chunk, Document
from apps.jobs.errors import JobError
from apps.tenants.context import tenant_context

from . import corrections, extractive, streaming
from .models import Generation
from .prompts import as_data
from .session import ModelSession

Task, Mode = Generation.Task, Generation.Mode
MAP_CHARS = 12_000  # text per model call when condensing: a longer text is condensed part by part
REWRITE_CHARS = 5_000  # text per call when the answer is as long as the text (plain language, spelling)
COMPARE_CHARS = MAP_CHARS // 2  # per document: both documents fit in one call
COMPARE_INPUTS = ("documents", "deliberations")  # two of one kind: documents of the authority, or deliberations
EMAIL_CONTEXT_CHARS = MAP_CHARS
MAX_CHUNKS = 50
MAX_INSTRUCTIONS_CHARS = 5_000
MAX_NOTES_CHARS = 40_000
SOURCE_INPUTS = ("text", "document", "chunks")


class ToolInputError(JobError):
    """A tool request that cannot be done as asked; the message is French, for the user."""


@dataclass(frozen=True)
class Tool:
    task: str  # Generation.Task value
    label: str  # French action label
    inputs: tuple[str, ...]  # accepted input keys
    needs_model: bool  # False when an extractive fallback exists
    run: Callable[[Generation, ModelSession], dict]


@dataclass(frozen=True)
class Source:
    text: str
    title: str  # what the model is told the text is, may be empty
    info: dict  # what the result says about it


# --- checking a request ----------------------------------------------------------------------------

def validate_inputs(task: str, data: dict) -> dict:
    """The inputs of `task` cleaned (texts trimmed, ids as integers, other keys dropped), or ToolInputError.
    Whether documents and passages exist is checked when the tool runs, in the authority's context."""
    tool = TOOLS.get(task)
    if tool is None:
        raise ToolInputError("Outil inconnu.")
    cleaned = {}
    for key in tool.inputs:
        value = (data or {}).get(key)
        value = _ids(value, key) if key in _BAD_ID else None if value is None else _text(value)
        if value:
            cleaned[key] = value
    _check_requirements(task, cleaned)
    return cleaned


def _text(value) -> str:
    # A browser sends \r\n; PostgreSQL's jsonb refuses \u0000.
    return str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


_BAD_ID = {"document": "Document introuvable.", "documents": "Choisissez deux délibérations à comparer.",
           "deliberations": "Choisissez deux délibérations à comparer.", "chunks": "Passage introuvable."}


def _ids(value, key: str) -> int | list[int] | None:
    """An id ("document") or a list of ids, from integers or the strings a form sends."""
    values = [] if value in (None, "") else list(value) if isinstance(value, (list, tuple)) else [value]
    texts = [str(v).strip() for v in values]
    if any(isinstance(v, bool) for v in values) or not all(t.isascii() and t.isdigit() and int(t) for t in texts):
        raise ToolInputError(_BAD_ID[key])
    ids = [int(t) for t in texts]
    if key == "document":
        if len(ids) > 1:
            raise ToolInputError(_BAD_ID[key])
        return ids[0] if ids else None
    return list(dict.fromkeys(ids)) if key == "chunks" else ids


def _check_requirements(task: str, data: dict) -> None:
    if task in (Task.SUMMARY, Task.KEY_POINTS, Task.PLAIN_LANGUAGE):
        given = [key for key in SOURCE_INPUTS if key in data]
        if not given:
            raise ToolInputError("Collez un texte ou choisissez un document.")
        if len(given) > 1:
            raise ToolInputError("Choisissez une seule source : un texte collé, un document ou des passages.")
        if len(data.get("chunks", [])) > MAX_CHUNKS:
            raise ToolInputError(f"Sélectionnez au plus {MAX_CHUNKS} passages.")
    elif task == Task.COMPARE:
        given = [key for key in COMPARE_INPUTS if key in data]
        if len(given) > 1:
            raise ToolInputError("Choisissez deux documents ou deux délibérations, pas les deux.")
        if not given or len(data[given[0]]) != 2:
            raise ToolInputError("Choisissez deux délibérations à comparer.")
        if data[given[0]][0] == data[given[0]][1]:
            raise ToolInputError("Choisissez deux délibérations différentes.")
    elif task == Task.MINUTES and "notes" not in data:
        raise ToolInputError("Collez vos notes de séance.")
    elif task == Task.EMAIL and "instructions" not in data:
        raise ToolInputError("Indiquez ce que le courriel doit dire.")
    elif task == Task.SPELLING and "text" not in data:
        raise ToolInputError("Collez le texte à corriger.")
    for key, limit, message in _TOO_LONG:
        if len(data.get(key, "")) > limit:
            raise ToolInputError(message.format(limit=f"{limit:,}".replace(",", " ")))


_TOO_LONG = (("notes", MAX_NOTES_CHARS, "Les notes sont trop longues (plus de {limit} caractères) : rédigez le "
                                        "compte rendu en plusieurs fois."),
             ("instructions", MAX_INSTRUCTIONS_CHARS, "Les consignes sont trop longues (plus de {limit} caractères)."))


# --- reading the input ------------------------------------------------------------------------------

def load_source(generation: Generation, data: dict) -> Source:
    """The text a summary, key points or plain-language tool works on."""
    if data.get("text"):
        return Source(data["text"], "", {"kind": "text"})
    with tenant_context(generation.authority_id):
        if data.get("document"):
            document = _document(data["document"])
            return Source(document_text(document), document.title,
                          {"kind": "document", "document_id": document.pk, "title": document.title})
        ids = data.get("chunks") or []
        chunks = Chunk.objects.select_related("document").in_bulk(ids)
        if not ids or len(chunks) != len(set(ids)):
            raise ToolInputError("Passage introuvable (son document a peut-être été supprimé ou réindexé).")
        ordered = [chunks[pk] for pk in ids]
    titles = list(dict.fromkeys(chunk.document.title for chunk in ordered))
    return Source("\n\n".join(chunk.text for chunk in ordered), "Extraits de " + ", ".join(f"« {t} »" for t in titles),
                  {"kind": "chunks", "chunk_ids": ids, "documents": titles})


def _document(pk: int) -> Document:
    """Inside the generation's tenant context: another authority's document is not found."""
    if (document := Document.objects.filter(pk=pk).first()) is None:
        raise ToolInputError("Document introuvable.")
    return document


def document_text(document: Document) -> str:
    text = "\n\n".join((page.get("text") or "").strip() for page in document.pages or []).strip()
    if not text:
        if document.state in (Document.State.PENDING, Document.State.PROCESSING):
            raise ToolInputError(f"« {document.title} » est en cours d'indexation : réessayez dans quelques minutes.")
        raise ToolInputError(f"« {document.title} » ne contient pas de texte exploitable.")
    return text


# --- cutting long texts -----------------------------------------------------------------------------

_BREAKS = ("\n\n", "\n", ". ", " ")


def _cut(text: str, limit: int, floor: int) -> int:
    """Where to cut text[:limit]: after the last paragraph break past `floor`, else a line, a sentence,
    a word; else at `limit`."""
    for mark in _BREAKS:
        at = text.rfind(mark, floor, limit)
        if at > 0:
            return at + len(mark)
    return limit


def split_parts(text: str, max_chars: int) -> list[str]:
    """Consecutive parts of at most `max_chars`, of similar sizes, cut on paragraph boundaries where
    possible; joined back they give the text exactly."""
    parts = []
    while len(text) > max_chars:
        remaining_parts = -(-len(text) // max_chars)
        target = len(text) // remaining_parts
        cut = _cut(text, min(max_chars, target + target // 5), target * 3 // 5)
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text] if text else parts


def truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:_cut(text, max_chars, max_chars * 4 // 5)].rstrip()


# --- helpers for the tools --------------------------------------------------------------------------

def _data(session: ModelSession, text: str) -> str:
    """Untrusted text as the model sees it: personal data masked, our delimiters neutralised."""
    return session.mask(as_data(text.strip()))


def _require_model(session: ModelSession) -> None:
    if not session.generative:
        raise inference.InferenceNotConfigured(detail="this writing tool has no extractive fallback")


def _progress(generation: Generation, message: str) -> None:
    streaming.publish(generation.pk, "status", {"outcome": Generation.Outcome.RUNNING, "message": message})


_NUMBER = re.compile(r"\d+(?:[,.]\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f.](?=\d{3}(?!\d))")


def _numbers(text: str) -> set[str]:
    return {n.replace(".", ",").lstrip("0") for n in _NUMBER.findall(_THOUSANDS.sub("", text))}


def unverified_numbers(output: str, *sources: str) -> list[str]:
    """Numbers (amounts, dates, counts) of two digits or more in the output that no source contains:
    the usual sign of an invented or mistyped figure."""
    known = set().union(*(_numbers(source) for source in sources))
    return sorted(n for n in _numbers(output) - known if len(n.split(",")[0]) > 1)


def _checked(output: str, result: dict, *sources: str) -> dict:
    fields = {"output": output, "result": result, "mode": Mode.GENERATIVE}
    if numbers := unverified_numbers(output, *sources):
        fields["flagged"] = True
        result["unverified_numbers"] = numbers
        result["warning"] = ("Certains chiffres n'apparaissent pas tels quels dans le texte d'origine : "
                             "vérifiez-les avant de réutiliser ce résultat.")
    return fields


def _condense(generation: Generation, session: ModelSession, source: Source, *, template: str,
              reduce_template: str, reduce_context: dict, map_tokens: int, reduce_tokens: int) -> tuple[str, int]:
    """Map-reduce: a short text in one streamed call; a long one part by part (not streamed), then the
    partial results combined (streamed), combining in rounds when they are still too long together."""
    common = {"authority": generation.authority.name, "title": _data(session, source.title)}
    parts = split_parts(source.text, MAP_CHARS)
    if len(parts) == 1:
        return session.complete(template, task=generation.task, max_tokens=reduce_tokens, text=_data(session, parts[0]),
                                part=1, parts=1, **common), 1

    def combine(partials: list[str], *, stream: bool) -> str:
        return session.complete(reduce_template, task=generation.task, stream=stream, max_tokens=reduce_tokens,
                                partials=[_data(session, p) for p in partials], **reduce_context, **common)

    partials = []
    for n, part in enumerate(parts, start=1):
        _progress(generation, f"Lecture de la partie {n} sur {len(parts)}…")
        partials.append(session.complete(template, task=generation.task, stream=False, max_tokens=map_tokens,
                                         text=_data(session, part), part=n, parts=len(parts), **common))
    while len(partials) > 1 and sum(len(p) for p in partials) > MAP_CHARS:
        groups = _groups(partials, MAP_CHARS)
        if len(groups) == len(partials):
            break
        partials = [combine(group, stream=False) if len(group) > 1 else group[0] for group in groups]
    _progress(generation, "Rédaction de la synthèse…")
    return combine(partials, stream=True), len(parts)


def _groups(texts: list[str], max_chars: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for text in texts:
        if groups[-1] and sum(map(len, groups[-1])) + len(text) > max_chars:
            groups.append([])
        groups[-1].append(text)
    return groups


def _rewrite(generation: Generation, session: ModelSession, text: str, *, template: str,
             **context) -> list[tuple[str, str]]:
    """(part, rewritten part) for each part of a text the model rewrites whole, each part streamed."""
    parts, rewritten = split_parts(text, REWRITE_CHARS), []
    for n, part in enumerate(parts, start=1):
        if n > 1:
            streaming.publish(generation.pk, "delta", {"text": "\n\n"})
        if not part.strip():
            rewritten.append((part, part))
            continue
        answer = session.complete(template, task=generation.task, max_tokens=len(part) // 2 + 300,
                                  text=_data(session, part), part=n, parts=len(parts),
                                  authority=generation.authority.name, **context)
        rewritten.append((part, _unwrapped(answer)))
    return rewritten


def _unwrapped(answer: str) -> str:
    """The answer without the <texte> tags a model sometimes copies around it."""
    match = re.fullmatch(r"\s*<texte>\s*(.*?)\s*</texte>\s*", answer, re.DOTALL)
    return match.group(1) if match else answer.strip()


# --- the tools --------------------------------------------------------------------------------------

def run_summary(generation: Generation, session: ModelSession) -> dict:
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    if not session.generative:
        count = min(12, 5 + len(source.text) // 20_000)
        return {"output": extractive.extractive_summary(source.text, sentences_count=count), "mode": Mode.EXTRACTIVE,
                "result": {"source": source.info}}
    output, parts = _condense(generation, session, source, template="summary", reduce_template="summary_combine",
                              reduce_context={}, map_tokens=500, reduce_tokens=900)
    return _checked(output, {"source": source.info, "parts": parts}, source.text, source.title)


def run_key_points(generation: Generation, session: ModelSession) -> dict:
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    if not session.generative:
        count = min(12, 6 + len(source.text) // 20_000)
        return {"output": extractive.extractive_key_points(source.text, points=count), "mode": Mode.EXTRACTIVE,
                "result": {"source": source.info}}
    output, parts = _condense(generation, session, source, template="key_points", reduce_template="key_points",
                              reduce_context={"merge": True}, map_tokens=500, reduce_tokens=700)
    return _checked(output, {"source": source.info, "parts": parts}, source.text, source.title)


def run_plain_language(generation: Generation, session: ModelSession) -> dict:
    _require_model(session)
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    rewritten = _rewrite(generation, session, source.text, template="plain_language",
                         title=_data(session, source.title))
    output = "\n\n".join(text for _, text in rewritten if text.strip())
    # Plain language writes numbers in digits ("quinze jours" → "15 jours"): no figure check here.
    return {"output": output, "result": {"source": source.info, "parts": len(rewritten)}, "mode": Mode.GENERATIVE}


@dataclass(frozen=True)
class Comparand:
    text: str
    title: str
    kind: str
    date: object  # datetime.date or None
    info: dict  # what the result says about it


def _comparands(generation: Generation, data: dict) -> tuple[str, list[Comparand]]:
    """("documents" or "deliberations", the two texts). Another authority's document is not found;
    another authority's deliberation only when it is published (its copied text, not its document)."""
    with tenant_context(generation.authority_id):
        if "deliberations" in data:
            return "deliberations", [_deliberation(pk, generation.authority_id) for pk in data["deliberations"]]
        documents = [_document(pk) for pk in data["documents"]]
    return "documents", [Comparand(document_text(d), d.title, d.get_kind_display(), d.date, {"document_id": d.pk})
                         for d in documents]


def _deliberation(pk: int, authority_id: int) -> Comparand:
    if (deliberation := visible_deliberation(pk, authority_id)) is None:
        raise ToolInputError("Délibération introuvable.")
    title = " ".join(deliberation.objet.split())
    return Comparand(comparison_text(deliberation, authority_id=authority_id), title, "Délibération",
                     deliberation.delib_date, {"deliberation_id": deliberation.pk, "delib_id": deliberation.delib_id,
                                               "authority": deliberation.authority.name,
                                               "same_authority": deliberation.authority_id == authority_id})


def run_compare(generation: Generation, session: ModelSession) -> dict:
    _require_model(session)
    key, comparands = _comparands(generation, validate_inputs(generation.task, generation.input))
    entries, info, texts = [], [], []  # texts: what the figures of the answer may come from
    for label, item in zip("AB", comparands, strict=True):
        excerpt = truncate(item.text, COMPARE_CHARS)
        texts += [excerpt, item.title, item.date.strftime("%d/%m/%Y %Y-%m-%d") if item.date else ""]
        entries.append({"label": label, "title": _data(session, item.title), "kind": item.kind,
                        "date": item.date.strftime("%d/%m/%Y") if item.date else "",
                        "text": _data(session, excerpt), "truncated": len(excerpt) < len(item.text)})
        info.append({"label": label, **item.info, "title": item.title, "truncated": len(excerpt) < len(item.text),
                     "compared_chars": len(excerpt), "total_chars": len(item.text)})
    output = session.complete("compare", task=generation.task, max_tokens=1200, authority=generation.authority.name,
                              documents=entries)
    result = {key: info}
    if cut := [d for d in info if d["truncated"]]:
        result["truncated"] = True
        result["notice"] = "Comparaison partielle : " + " ; ".join(
            f"seuls les {d['compared_chars']:,} premiers caractères sur {d['total_chars']:,} de « {d['title']} » "
            "ont été comparés".replace(",", " ") for d in cut) + "."
    return _checked(output, result, *texts)


def run_minutes(generation: Generation, session: ModelSession) -> dict:
    _require_model(session)
    data = validate_inputs(generation.task, generation.input)
    agenda, notes = data.get("agenda", ""), data["notes"]
    output = session.complete("minutes", task=generation.task, max_tokens=2000, authority=generation.authority.name,
                              agenda=_data(session, agenda), notes=_data(session, notes))
    return _checked(output, {}, agenda, notes)


def run_email(generation: Generation, session: ModelSession) -> dict:
    _require_model(session)
    data = validate_inputs(generation.task, generation.input)
    instructions, text = data["instructions"], data.get("text", "")
    context = truncate(text, EMAIL_CONTEXT_CHARS)
    output = session.complete("email", task=generation.task, max_tokens=800, authority=generation.authority.name,
                              instructions=_data(session, instructions), text=_data(session, context),
                              truncated=len(context) < len(text))
    return _checked(output, {"truncated": True} if len(context) < len(text) else {}, instructions, text)


def run_spelling(generation: Generation, session: ModelSession) -> dict:
    _require_model(session)
    original = validate_inputs(generation.task, generation.input)["text"]
    pieces = []
    for part, answer in _rewrite(generation, session, original, template="spelling"):
        if as_data(part) != part and "‹" not in part:
            answer = answer.replace("‹", "<")  # undo what as_data did to the text, not a correction
        # The part's surrounding whitespace is the original's: a model trims it, the agent did not ask.
        pieces.append(part[:len(part) - len(part.lstrip())] + answer.strip() + part[len(part.rstrip()):]
                      if answer.strip() else part)
    corrected = "".join(pieces)
    changes = corrections.diff(original, corrected)
    result = {"original": original, "changes": changes}
    # A model that rewrote instead of correcting: the agent should look closely.
    if flagged := sum(max(len(c["before"]), len(c["after"])) for c in changes) > 0.3 * len(original):
        result["warning"] = "La correction modifie beaucoup le texte : vérifiez chaque changement avant de l'accepter."
    return {"output": corrected, "result": result, "flagged": flagged, "mode": Mode.GENERATIVE}


TOOLS: dict[str, Tool] = {tool.task: tool for tool in (
    Tool(Task.SUMMARY.value, "Résumer", SOURCE_INPUTS, False, run_summary),
    Tool(Task.KEY_POINTS.value, "Extraire les points clés", SOURCE_INPUTS, False, run_key_points),
    Tool(Task.PLAIN_LANGUAGE.value, "Reformuler en langage clair", SOURCE_INPUTS, True, run_plain_language),
    Tool(Task.COMPARE.value, "Comparer deux délibérations", COMPARE_INPUTS, True, run_compare),
    Tool(Task.MINUTES.value, "Rédiger un compte rendu", ("agenda", "notes"), True, run_minutes),
    Tool(Task.EMAIL.value, "Rédiger un courriel", ("instructions", "text"), True, run_email),
    Tool(Task.SPELLING.value, "Corriger l'orthographe", ("text",), True, run_spelling),
)}
