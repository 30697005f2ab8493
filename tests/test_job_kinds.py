"""Every kind of job the code can queue is registered, from its app's `ready()`, with a Celery task and a
French label: a job queued under an unknown kind would never run, and its page would show a code."""

import ast
from pathlib import Path

from apps.jobs.registry import registered_kinds, task_for

APPS = Path(__file__).resolve().parents[1] / "apps"


def job_kinds_in_the_code() -> set[str]:
    """String constants named *JOB* / *JOB_KIND* (module level), and literal `kind=` of enqueue_job()."""
    kinds = set()
    for path in APPS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and any(isinstance(t, ast.Name) and "JOB" in t.id for t in node.targets)
            ):
                kinds.add(node.value.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "enqueue_job":
                kinds |= {k.value.value for k in node.keywords if k.arg == "kind" and isinstance(k.value, ast.Constant)}
    return kinds


def test_every_job_kind_in_the_code_is_registered_with_a_task_and_a_french_label():
    found = job_kinds_in_the_code()
    assert {"documents.index", "assistant.generate", "deliberations.import", "platform.diagnostic"} <= found
    registered = registered_kinds()
    assert found <= set(registered), f"queued but never registered: {sorted(found - set(registered))}"
    for kind, label in registered.items():
        assert task_for(kind).name == kind
        assert label and label != kind and label[0].isupper(), (kind, label)
