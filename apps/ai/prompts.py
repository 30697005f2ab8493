"""Versioned French prompt templates (files in prompts/, named `<task>.v<N>.txt`): the system part,
then a line `=== user ===`, then the user part. The audit log records which version ran."""

import re
from functools import cache
from pathlib import Path

from django.template import Context, Engine

PROMPTS_DIR = Path(__file__).with_name("prompts")
SEPARATOR = "\n=== user ===\n"
_engine = Engine(dirs=[str(PROMPTS_DIR)], autoescape=False)
_TAG = re.compile(r"</?([a-zA-Zàâçéèêëîïôûù_]+)[\s>]")


@cache
def _delimiter() -> re.Pattern:
    """Every tag our templates use to quote text (<sources>, <message>, <exemples>…), read from the templates
    themselves: a new template's delimiters are protected without anyone having to list them."""
    tags = {tag.lower() for path in PROMPTS_DIR.glob("*.txt") for tag in _TAG.findall(path.read_text())}
    names = "|".join(sorted((re.escape(tag) for tag in tags), key=len, reverse=True))
    return re.compile(rf"<\s*(/?)\s*({names})\b", re.IGNORECASE)


@cache
def latest(task: str) -> str:
    """The newest version of a task's template, e.g. 'answer.v2'."""
    versions = sorted(PROMPTS_DIR.glob(f"{task}.v*.txt"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
    if not versions:
        raise LookupError(f"no prompt template for task {task!r}")
    return versions[-1].stem


def as_data(text: str) -> str:
    """Neutralise anything that looks like our delimiters, so a document cannot end its own quote."""
    return _delimiter().sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text or "")


def render(template: str, **context) -> list[dict]:
    """Chat messages from a template and its context (strings are inserted as they are: wrap
    untrusted text with `as_data` in the caller)."""
    text = _engine.get_template(f"{template}.txt").render(Context(context, autoescape=False))
    system, _, user = text.partition(SEPARATOR)
    messages = [{"role": "system", "content": system.strip()}] if system.strip() else []
    return [*messages, {"role": "user", "content": user.strip()}]
