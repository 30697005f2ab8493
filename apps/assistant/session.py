"""One generation's access to the model: quota check, pseudonymisation, streaming to readers, and
the usage it adds up for the audit log (a summary of a long document makes several calls)."""

import re
import time
from dataclasses import dataclass, field

from apps import inference

from . import prompts, streaming, usage
from .models import Generation
from .pseudonymise import pseudonymise, restore

_OPEN_PLACEHOLDER = re.compile(r"\[[A-Z_]*\d*$")


@dataclass
class ModelSession:
    generation: Generation
    mapping: dict[str, str] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False
    latency_ms: int = 0
    energy_wh: float = 0.0
    co2_g: float = 0.0
    model: str = ""
    route: str = ""

    @property
    def generative(self) -> bool:
        return inference.is_configured()

    def mask(self, text: str) -> str:
        """Personal data → placeholders shared by every text of this generation."""
        result = pseudonymise(text, known=self.mapping)
        self.mapping.update(result.mapping)
        return result.text

    def unmask(self, text: str) -> str:
        return restore(text, self.mapping)

    def complete(self, template: str, *, task: str, stream: bool = True, max_tokens: int = 800,
                 **context) -> str:
        """Render `template` (a task name: its latest version is used), call the model, return its text
        with personal data restored. Streams to the generation's readers unless stream=False."""
        usage.check_quota(self.generation.authority, pending=self.prompt_tokens + self.completion_tokens)
        stream = stream and self.generation.input.get("stream", True)  # batch requests: one JSON reply, less CPU
        version = prompts.latest(template)
        messages = prompts.render(version, **context)
        out = _RestoringStream(self.generation.pk, self.unmask) if stream else None
        completion = inference.generate(messages, task=task, max_tokens=max_tokens,
                                        on_delta=out, on_reset=out.reset if out else None)
        if out:
            out.flush(final=True)
        self.templates.append(version)
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.tokens_estimated |= completion.tokens_estimated
        self.latency_ms += completion.latency_ms
        self.energy_wh += completion.energy_wh
        self.co2_g += completion.co2_g
        self.model, self.route = completion.model, completion.route
        return self.unmask(completion.text)

    def audit_fields(self) -> dict:
        return {"template": ", ".join(dict.fromkeys(self.templates))[:60], "model": self.model, "route": self.route,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "tokens_estimated": self.tokens_estimated, "latency_ms": self.latency_ms,
                "energy_wh": self.energy_wh, "co2_g": self.co2_g, "pseudonymised": len(self.mapping)}


class _RestoringStream(streaming.TextStream):
    """Streams the model's text with personal data already restored; a placeholder cut between
    two tokens waits for its end."""

    def __init__(self, generation_id: int, restore):
        super().__init__(generation_id)
        self.restore = restore

    def flush(self, final: bool = False) -> None:
        pending = "".join(self._pending)
        held = "" if final else (match.group(0) if (match := _OPEN_PLACEHOLDER.search(pending)) else "")
        ready = pending[:len(pending) - len(held)]
        if ready:
            streaming.publish(self.generation_id, "delta", {"text": self.restore(ready)})
        self._pending = [held] if held else []
        self._flushed_at = time.monotonic()
