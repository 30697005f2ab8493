"""The model tasks: what a model call may be for. Each app registers its own from its `ready()`; the
governed call refuses a task or a prompt template nobody registered, so every model call of the code
base is listed here (and the platform's tests run each of them against the quota and the audit)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelTask:
    name: str  # audited as the Generation's task when the call opens its own audit row
    route: str  # the task name INFERENCE_ROUTES entries may list to serve it
    templates: tuple[str, ...]  # the prompt templates (apps/ai/prompts/<name>.v<N>.txt) it uses


_TASKS: dict[str, ModelTask] = {}


def register(name: str, *, templates: tuple[str, ...], route: str = "") -> ModelTask:
    """Idempotent, as `ready()` may run more than once; registering a different task under a taken
    name is a programming error."""
    task = ModelTask(name=name, route=route or name, templates=tuple(templates))
    existing = _TASKS.setdefault(name, task)
    if existing != task:
        raise ValueError(f"model task {name!r} is already registered differently: {existing}")
    return task


def get(name: str) -> ModelTask:
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(f"no model task registered under {name!r}; register it in its app's ready()") from None


def registered() -> list[ModelTask]:
    return sorted(_TASKS.values(), key=lambda task: task.name)
