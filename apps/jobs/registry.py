"""Which Celery task runs which kind of job, and how each kind is called in the UI."""

_TASKS: dict = {}
_LABELS: dict[str, str] = {}


def register(kind: str, label: str, task) -> None:
    _TASKS[kind] = task
    _LABELS[kind] = label


def task_for(kind: str):
    try:
        return _TASKS[kind]
    except KeyError:
        raise LookupError(f"No task registered for job kind {kind!r}") from None


def kind_label(kind: str) -> str:
    return _LABELS.get(kind, kind)


def registered_kinds() -> dict[str, str]:
    """Every job kind the apps registered (from their `ready()`), with its French label."""
    return dict(_LABELS)
