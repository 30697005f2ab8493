"""The writing tools of the assistant (summary, key points, plain language, comparison, minutes, e-mail,
spelling), as a worker runs them: each reads its inputs, calls the model through the governed call on
the generation's record, and checks what comes back (figures, corrections)."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from apps import french
from apps.ai import streaming
from apps.ai.calls import Record, is_generative
from apps.ai.errors import InferenceNotConfigured
from apps.ai.models import Generation
from apps.ai.prompts import as_data

from .. import corrections, extractive
from ..calling import ask_model
from . import comparands
from .inputs import accepted_inputs, validate_inputs
from .sources import Source, load_source
from .texts import groups, split_parts, truncate, unverified_numbers

Task, Mode = Generation.Task, Generation.Mode
MAP_CHARS = 12_000  # text per model call when condensing: a longer text is condensed part by part
REWRITE_CHARS = 5_000  # text per call when the answer is as long as the text (plain language, spelling)
COMPARE_CHARS = MAP_CHARS // 2  # per document: both documents fit in one call
EMAIL_CONTEXT_CHARS = MAP_CHARS


@dataclass(frozen=True)
class Tool:
    task: str  # Generation.Task value
    label: str  # French action label
    needs_model: bool  # False when an extractive fallback exists
    run: Callable[[Generation, Record], dict]

    @property
    def inputs(self) -> tuple[str, ...]:
        """The accepted input keys (a comparison: those of the registered comparands)."""
        return accepted_inputs(self.task)


# --- helpers for the tools --------------------------------------------------------------------------


def _require_model() -> None:
    if not is_generative():
        raise InferenceNotConfigured(detail="this writing tool has no extractive fallback")


def _progress(generation: Generation, message: str) -> None:
    streaming.publish(generation.pk, "status", {"outcome": Generation.Outcome.RUNNING, "message": message})


def _checked(output: str, result: dict, *sources: str) -> dict:
    fields = {"output": output, "result": result, "mode": Mode.GENERATIVE}
    if numbers := unverified_numbers(output, *sources):
        fields["flagged"] = True
        result["unverified_numbers"] = numbers
        result["warning"] = (
            "Certains chiffres n'apparaissent pas tels quels dans le texte d'origine : "
            "vérifiez-les avant de réutiliser ce résultat."
        )
    return fields


def _condense(
    generation: Generation,
    record: Record,
    source: Source,
    *,
    template: str,
    reduce_template: str,
    reduce_context: dict,
    map_tokens: int,
    reduce_tokens: int,
) -> tuple[str, int]:
    """Map-reduce: a short text in one streamed call; a long one part by part (not streamed), then the
    partial results combined (streamed), combining in rounds when they are still too long together."""
    task, title = generation.task, source.title.strip()
    parts = split_parts(source.text, MAP_CHARS)
    if len(parts) == 1:
        context = {"title": title, "text": parts[0].strip(), "part": 1, "parts": 1}
        return ask_model(record, task, template, context, max_tokens=reduce_tokens), 1

    def combine(partials: list[str], *, stream: bool) -> str:
        context = {"title": title, "partials": [p.strip() for p in partials], **reduce_context}
        return ask_model(record, task, reduce_template, context, stream=stream, max_tokens=reduce_tokens)

    partials = []
    for n, part in enumerate(parts, start=1):
        _progress(generation, f"Lecture de la partie {n} sur {len(parts)}…")
        context = {"title": title, "text": part.strip(), "part": n, "parts": len(parts)}
        partials.append(ask_model(record, task, template, context, stream=False, max_tokens=map_tokens))
    while len(partials) > 1 and sum(len(p) for p in partials) > MAP_CHARS:
        grouped = groups(partials, MAP_CHARS)
        if len(grouped) == len(partials):
            break
        partials = [combine(group, stream=False) if len(group) > 1 else group[0] for group in grouped]
    _progress(generation, "Rédaction de la synthèse…")
    return combine(partials, stream=True), len(parts)


def _rewrite(generation: Generation, record: Record, text: str, *, template: str, **context) -> list[tuple[str, str]]:
    """(part, rewritten part) for each part of a text the model rewrites whole, each part streamed."""
    parts, rewritten = split_parts(text, REWRITE_CHARS), []
    for n, part in enumerate(parts, start=1):
        if n > 1:
            streaming.publish(generation.pk, "delta", {"text": "\n\n"})
        if not part.strip():
            rewritten.append((part, part))
            continue
        answer = ask_model(
            record,
            generation.task,
            template,
            {"text": part.strip(), "part": n, "parts": len(parts), **context},
            max_tokens=len(part) // 2 + 300,
        )
        rewritten.append((part, _unwrapped(answer)))
    return rewritten


def _unwrapped(answer: str) -> str:
    """The answer without the <texte> tags a model sometimes copies around it."""
    match = re.fullmatch(r"\s*<texte>\s*(.*?)\s*</texte>\s*", answer, re.DOTALL)
    return match.group(1) if match else answer.strip()


# --- the tools --------------------------------------------------------------------------------------


def run_summary(generation: Generation, record: Record) -> dict:
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    if not is_generative():
        count = min(12, 5 + len(source.text) // 20_000)
        return {
            "output": extractive.extractive_summary(source.text, sentences_count=count),
            "mode": Mode.EXTRACTIVE,
            "result": {"source": source.info},
        }
    output, parts = _condense(
        generation,
        record,
        source,
        template="summary",
        reduce_template="summary_combine",
        reduce_context={},
        map_tokens=500,
        reduce_tokens=900,
    )
    return _checked(output, {"source": source.info, "parts": parts}, source.text, source.title)


def run_key_points(generation: Generation, record: Record) -> dict:
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    if not is_generative():
        count = min(12, 6 + len(source.text) // 20_000)
        return {
            "output": extractive.extractive_key_points(source.text, points=count),
            "mode": Mode.EXTRACTIVE,
            "result": {"source": source.info},
        }
    output, parts = _condense(
        generation,
        record,
        source,
        template="key_points",
        reduce_template="key_points",
        reduce_context={"merge": True},
        map_tokens=500,
        reduce_tokens=700,
    )
    return _checked(output, {"source": source.info, "parts": parts}, source.text, source.title)


def run_plain_language(generation: Generation, record: Record) -> dict:
    _require_model()
    source = load_source(generation, validate_inputs(generation.task, generation.input))
    rewritten = _rewrite(generation, record, source.text, template="plain_language", title=source.title.strip())
    output = "\n\n".join(text for _, text in rewritten if text.strip())
    # Plain language writes numbers in digits ("quinze jours" → "15 jours"): no figure check here.
    return {"output": output, "result": {"source": source.info, "parts": len(rewritten)}, "mode": Mode.GENERATIVE}


def run_compare(generation: Generation, record: Record) -> dict:
    _require_model()
    key, items = comparands.load(generation.authority_id, validate_inputs(generation.task, generation.input))
    entries, info, texts = [], [], []  # texts: what the figures of the answer may come from
    for label, item in zip("AB", items, strict=True):
        excerpt = truncate(item.text, COMPARE_CHARS)
        texts += [excerpt, item.title, item.date.strftime("%d/%m/%Y %Y-%m-%d") if item.date else ""]
        entries.append(
            {
                "label": label,
                "title": item.title.strip(),
                "kind": item.kind,
                "date": item.date.strftime("%d/%m/%Y") if item.date else "",
                "text": excerpt.strip(),
                "truncated": len(excerpt) < len(item.text),
            }
        )
        info.append(
            {
                "label": label,
                **item.info,
                "title": item.title,
                "truncated": len(excerpt) < len(item.text),
                "compared_chars": len(excerpt),
                "total_chars": len(item.text),
            }
        )
    output = ask_model(record, generation.task, "compare", {"documents": entries}, max_tokens=1200)
    result = {key: info}
    if cut := [d for d in info if d["truncated"]]:
        result["truncated"] = True
        result["notice"] = (
            "Comparaison partielle : "
            + " ; ".join(
                f"seuls les {french.number(d['compared_chars'])} premiers caractères sur "
                f"{french.number(d['total_chars'])} de « {d['title']} » ont été comparés"
                for d in cut
            )
            + "."
        )
    return _checked(output, result, *texts)


def run_minutes(generation: Generation, record: Record) -> dict:
    _require_model()
    data = validate_inputs(generation.task, generation.input)
    agenda, notes = data.get("agenda", ""), data["notes"]
    output = ask_model(
        record, generation.task, "minutes", {"agenda": agenda.strip(), "notes": notes.strip()}, max_tokens=2000
    )
    return _checked(output, {}, agenda, notes)


def run_email(generation: Generation, record: Record) -> dict:
    _require_model()
    data = validate_inputs(generation.task, generation.input)
    instructions, text = data["instructions"], data.get("text", "")
    excerpt = truncate(text, EMAIL_CONTEXT_CHARS)
    context = {"instructions": instructions.strip(), "text": excerpt.strip(), "truncated": len(excerpt) < len(text)}
    output = ask_model(record, generation.task, "email", context, max_tokens=800)
    return _checked(output, {"truncated": True} if len(excerpt) < len(text) else {}, instructions, text)


def run_spelling(generation: Generation, record: Record) -> dict:
    _require_model()
    original = validate_inputs(generation.task, generation.input)["text"]
    pieces = []
    for part, answer in _rewrite(generation, record, original, template="spelling"):
        if as_data(part) != part and "‹" not in part:
            answer = answer.replace("‹", "<")  # undo what as_data did to the text, not a correction
        # The part's surrounding whitespace is the original's: a model trims it, the agent did not ask.
        pieces.append(
            part[: len(part) - len(part.lstrip())] + answer.strip() + part[len(part.rstrip()) :]
            if answer.strip()
            else part
        )
    corrected = "".join(pieces)
    changes = corrections.diff(original, corrected)
    result = {"original": original, "changes": changes}
    # A model that rewrote instead of correcting: the agent should look closely.
    if flagged := sum(max(len(c["before"]), len(c["after"])) for c in changes) > 0.3 * len(original):
        result["warning"] = "La correction modifie beaucoup le texte : vérifiez chaque changement avant de l'accepter."
    return {"output": corrected, "result": result, "flagged": flagged, "mode": Mode.GENERATIVE}


TOOLS: dict[str, Tool] = {
    tool.task: tool
    for tool in (
        Tool(Task.SUMMARY.value, "Résumer", False, run_summary),
        Tool(Task.KEY_POINTS.value, "Extraire les points clés", False, run_key_points),
        Tool(Task.PLAIN_LANGUAGE.value, "Reformuler en langage clair", True, run_plain_language),
        Tool(Task.COMPARE.value, "Comparer deux délibérations", True, run_compare),
        Tool(Task.MINUTES.value, "Rédiger un compte rendu", True, run_minutes),
        Tool(Task.EMAIL.value, "Rédiger un courriel", True, run_email),
        Tool(Task.SPELLING.value, "Corriger l'orthographe", True, run_spelling),
    )
}
