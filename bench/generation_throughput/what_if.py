"""Loaded into the benchmark's workers by `run.py --stream --what-if stream` (CELERY_IMPORTS): a patch that
stands for a change proposed in README.md, to measure what it would gain. Never used by the application.

- stream: each SSE chunk is read with json.loads into plain attribute objects, instead of huggingface_hub's
  dataclass parsing (apps/inference/gateway.py would read the stream itself).
"""

import json
import os
from types import SimpleNamespace

from huggingface_hub.inference import _common

PATCHES = set(filter(None, os.environ.get("BENCH_WHAT_IF", "").split(",")))


def _light_stream_chunk(line: str):
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == "[DONE]":
        raise StopIteration("[DONE] signal received.")
    chunk = json.loads(payload, object_hook=lambda fields: SimpleNamespace(**fields))
    if getattr(chunk, "error", None) is not None:
        return _original_chunk(line)  # let huggingface_hub raise its own error
    return chunk


_original_chunk = _common._format_chat_completion_stream_output
if "stream" in PATCHES:
    _common._format_chat_completion_stream_output = _light_stream_chunk
