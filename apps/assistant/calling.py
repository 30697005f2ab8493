"""The assistant's model calls: the governed call of the platform, on the generation's own audit
record, streamed to whoever watches the generation unless it was asked as a batch request."""

from apps.ai.calls import Record, governed_call


def ask_model(record: Record, task: str, template: str, context: dict, *, stream: bool = True, **options) -> str:
    """The model's text for `template` rendered with `context` (every string in it is masked first)."""
    stream = stream and record.generation.input.get("stream", True)  # batch requests: one JSON reply, less CPU
    return governed_call(record.authority, task, template, context, record=record, stream=stream, **options).text
