"""What each writing tool accepts, and how a request is checked before it becomes a job: the same
rules for the pages, the API and other apps' shortcuts (compare two deliberations)."""

from apps import french
from apps.ai.models import Generation

from ..errors import ToolInputError
from . import comparands

Task = Generation.Task
MAX_CHUNKS = 50
MAX_INSTRUCTIONS_CHARS = 5_000
MAX_NOTES_CHARS = 40_000
SOURCE_INPUTS = ("text", "document", "chunks")
# The input keys of each tool; a comparison takes two items of one registered kind (comparands).
ACCEPTED = {
    Task.SUMMARY: SOURCE_INPUTS,
    Task.KEY_POINTS: SOURCE_INPUTS,
    Task.PLAIN_LANGUAGE: SOURCE_INPUTS,
    Task.COMPARE: (),
    Task.MINUTES: ("agenda", "notes"),
    Task.EMAIL: ("instructions", "text"),
    Task.SPELLING: ("text",),
}


def accepted_inputs(task: str) -> tuple[str, ...]:
    return tuple(comparands.kinds()) if task == Task.COMPARE else ACCEPTED[task]


def validate_inputs(task: str, data: dict) -> dict:
    """The inputs of `task` cleaned (texts trimmed, ids as integers, other keys dropped), or ToolInputError.
    Whether documents and passages exist is checked when the tool runs, in the authority's context."""
    if task not in ACCEPTED:
        raise ToolInputError("Outil inconnu.")
    cleaned = {}
    for key in accepted_inputs(task):
        value = (data or {}).get(key)
        value = _ids(value, key) if key in _id_keys() else None if value is None else _text(value)
        if value:
            cleaned[key] = value
    _check_requirements(task, cleaned)
    return cleaned


def _text(value) -> str:
    # A browser sends \r\n; PostgreSQL's jsonb refuses \u0000.
    return str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


_BAD_ID = {"document": "Document introuvable.", "chunks": "Passage introuvable."}
BAD_COMPARANDS = "Choisissez deux délibérations à comparer."


def _id_keys() -> set[str]:
    return {*_BAD_ID, *comparands.kinds()}


def _ids(value, key: str) -> int | list[int] | None:
    """An id ("document") or a list of ids, from integers or the strings a form sends."""
    values = [] if value in (None, "") else list(value) if isinstance(value, (list, tuple)) else [value]
    texts = [str(v).strip() for v in values]
    if any(isinstance(v, bool) for v in values) or not all(t.isascii() and t.isdigit() and int(t) for t in texts):
        raise ToolInputError(_BAD_ID.get(key, BAD_COMPARANDS))
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
        given = [key for key in comparands.kinds() if key in data]
        if len(given) > 1:
            raise ToolInputError("Choisissez deux documents ou deux délibérations, pas les deux.")
        if not given or len(data[given[0]]) != 2:
            raise ToolInputError(BAD_COMPARANDS)
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
            raise ToolInputError(message.format(limit=french.number(limit)))


_TOO_LONG = (
    (
        "notes",
        MAX_NOTES_CHARS,
        "Les notes sont trop longues (plus de {limit} caractères) : rédigez le compte rendu en plusieurs fois.",
    ),
    ("instructions", MAX_INSTRUCTIONS_CHARS, "Les consignes sont trop longues (plus de {limit} caractères)."),
)
