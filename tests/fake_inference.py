"""A text-generation-inference stand-in on loopback speaking TGI's HTTP protocol (OpenAI chat, `/generate`,
SSE streams), with latency, a concurrency limit and scripted failures; also TEI's `/embed` and `/rerank`.

Tests use it as a context manager (`with FakeInference(answer="…") as fake: fake.url`); benchmarks and
manual trials run it as a command: `python -m tests.fake_inference --port 8089 --latency 2`.
Every request is recorded in `fake.requests`. Response shapes follow TGI's router/src/server.rs.
"""

import argparse
import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from tests.fake_tei import FakeTEI

TOKEN_RE = re.compile(r"\S+\s*|\s+")
GENERATION_PATHS = {"/v1/chat/completions", "/", "/generate", "/generate_stream"}
FAILURE_MODES = {"timeout", "malformed", "disconnect"}  # and any HTTP status code, as a string ("503")
ERRORS = {  # what TGI (or the proxy in front of it) answers with each status
    400: ("Input validation error: prompt is too long", "validation"),
    422: ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096", "validation"),
    424: ("Request failed during generation: CUDA out of memory", "generation"),
    429: ("Model is overloaded", "overloaded"),
    500: ("Incomplete generation", "incomplete_generation"),
    503: ("Service Unavailable", "unavailable"),
}
VERSION = "3.3.6"


class Request(NamedTuple):
    path: str
    json: dict
    authorization: str | None


class FakeInference:
    """answer: a string, a callable(messages or inputs) -> str, or a list/deque of answers used in order
    (the last one then repeats). echo=True answers the whole prompt instead."""

    def __init__(
        self,
        *,
        answer="Ceci est une réponse de test.",
        latency=0.0,
        tokens_per_second=0.0,
        max_concurrent=128,
        echo=False,
        send_usage=True,
        model_id="fake/tgi-model",
        max_input_tokens=4095,
        hang_seconds=30.0,
        record=True,
        host="127.0.0.1",
        port=0,
    ):
        self.answer, self.echo, self.send_usage = answer, echo, send_usage
        self.latency, self.tokens_per_second, self.max_concurrent = latency, tokens_per_second, max_concurrent
        self.model_id, self.max_input_tokens, self.hang_seconds = model_id, max_input_tokens, hang_seconds
        self.record = record  # the command turns it off: a long benchmark would keep every prompt in memory
        self.requests: list[Request] = []
        self.usages: list[dict] = []  # the token usage of each completed generation, as the server reported it
        self.max_seen_concurrency = 0
        self._in_flight = 0
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def __enter__(self):
        # A short poll interval: shutdown() waits for it, once per test.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._closing.set()  # wakes the handlers that sleep or hang
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, n: int = 1, mode: str = "503") -> None:
        """The next n generation requests fail: "429", "500", "503"… (any status), "timeout" (hang past the
        client's timeout, then close), "malformed" (invalid JSON mid-stream) or "disconnect" (close mid-stream)."""
        if mode not in FAILURE_MODES and not mode.isdigit():
            raise ValueError(f"unknown failure mode {mode!r}")
        with self._lock:
            self._failures.extend([mode] * n)

    def generation_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path in GENERATION_PATHS]

    def tokens_served(self) -> int:
        """Prompt and completion tokens of every generation answered so far, as reported in `usage`."""
        with self._lock:
            return sum(u["prompt_tokens"] + u["completion_tokens"] for u in self.usages)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.usages.clear()
            self._failures.clear()
            self.max_seen_concurrency = 0

    # Called by the handler threads.

    def _record(self, path, body, authorization):
        if not self.record:
            return
        with self._lock:
            self.requests.append(Request(path, body, authorization))

    def _enter(self) -> tuple[bool, str | None]:
        """Admit a generation request (False beyond max_concurrent, as TGI's 429), and take its failure."""
        with self._lock:
            if self._in_flight >= self.max_concurrent:
                return False, None
            self._in_flight += 1
            self.max_seen_concurrency = max(self.max_seen_concurrency, self._in_flight)
            return True, self._failures.popleft() if self._failures else None

    def _leave(self):
        with self._lock:
            self._in_flight -= 1

    def _answer_for(self, subject, prompt: str) -> str:
        if self.echo:
            return prompt
        if callable(self.answer):
            return self.answer(subject)
        if isinstance(self.answer, (list, deque)):
            with self._lock:
                return self.answer.pop(0) if len(self.answer) > 1 else self.answer[0]
        return self.answer

    def _sleep(self, seconds):
        if seconds > 0:
            self._closing.wait(seconds)

    def _token_pause(self):
        if self.tokens_per_second > 0:
            self._sleep(1 / self.tokens_per_second)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the benchmark opens 64+ connections at once

    def handle_error(self, request, client_address):
        if not isinstance(sys.exception(), ConnectionError):  # a client that hangs up is no news
            super().handle_error(request, client_address)


def _prompt_of(path, body) -> tuple[object, str]:
    if path == "/v1/chat/completions":
        messages = body.get("messages") or []
        texts = []
        for message in messages:
            content = message.get("content") or ""
            if isinstance(content, list):  # OpenAI content parts
                content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            texts.append(content)
        return messages, "\n".join(texts)
    inputs = body.get("inputs") or ""
    return inputs, inputs


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as TGI (hyper) serves them

    def log_message(self, *args):
        pass

    @property
    def fake(self) -> FakeInference:
        return self.server.fake

    def _reply(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status):
        message, error_type = ERRORS.get(status, ("Error", "error"))
        self._reply(status, {"error": message, "error_type": error_type})

    def do_GET(self):
        fake = self.fake
        if self.path == "/health":
            self._reply(200, {})
        elif self.path == "/info":
            self._reply(
                200,
                {
                    "model_id": fake.model_id,
                    "model_sha": None,
                    "model_pipeline_tag": "text-generation",
                    "max_concurrent_requests": fake.max_concurrent,
                    "max_best_of": 2,
                    "max_stop_sequences": 4,
                    "max_input_tokens": fake.max_input_tokens,
                    "max_total_tokens": fake.max_input_tokens + 1,
                    "validation_workers": 2,
                    "max_client_batch_size": 4,
                    "router": "text-generation-router",
                    "version": VERSION,
                    "sha": None,
                    "docker_label": None,
                },
            )
        elif self.path == "/v1/models":
            self._reply(
                200,
                {
                    "object": "list",
                    "data": [{"id": fake.model_id, "object": "model", "created": 0, "owned_by": fake.model_id}],
                },
            )
        else:
            self._reply(404, {"error": "Not Found", "error_type": "not_found"})

    def do_POST(self):
        fake = self.fake
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        except ValueError:
            self._reply(400, {"error": "Invalid JSON", "error_type": "validation"})
            return
        fake._record(self.path, body, self.headers.get("Authorization"))
        if self.path == "/embed":
            self._reply(200, FakeTEI.embed(body["inputs"]))
        elif self.path == "/rerank":
            self._reply(200, FakeTEI.rerank(body["query"], body["texts"]))
        elif self.path in GENERATION_PATHS:
            admitted, failure = fake._enter()
            if not admitted:
                self._error(429)
                return
            try:
                self._generate(body, failure)
            finally:
                fake._leave()
        else:
            self._reply(404, {"error": "Not Found", "error_type": "not_found"})

    def _generate(self, body, failure):
        fake, path = self.fake, self.path
        chat = path == "/v1/chat/completions"
        stream = bool(body.get("stream")) or path == "/generate_stream"
        if failure and failure.isdigit():
            self._error(int(failure))
            return
        if failure == "timeout":
            fake._sleep(fake.hang_seconds)
            self._drop()
            return
        subject, prompt = _prompt_of(path, body)
        prompt_tokens = len(prompt.split())
        if prompt_tokens > fake.max_input_tokens:
            self._error(422)
            return
        tokens = TOKEN_RE.findall(fake._answer_for(subject, prompt))
        limit = body.get("max_tokens") if chat else (body.get("parameters") or {}).get("max_new_tokens")
        finish = "length" if limit and len(tokens) > limit else "stop"
        tokens = tokens[:limit] if limit else tokens
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        if not failure:
            with fake._lock:
                fake.usages.append(usage)
        fake._sleep(fake.latency)
        if failure == "disconnect" and not stream:
            self._drop()
        elif failure == "malformed" and not stream:
            self._raw(200, b'{"object": "chat.completion", "choices": [{')
        elif stream:
            self._stream(chat, body, tokens, finish, usage, failure)
        elif chat:
            fake._sleep(len(tokens) / fake.tokens_per_second if fake.tokens_per_second else 0)
            self._reply(200, self._chat_completion("".join(tokens), finish, usage))
        else:
            fake._sleep(len(tokens) / fake.tokens_per_second if fake.tokens_per_second else 0)
            output = {"generated_text": "".join(tokens), "details": None}
            if (body.get("parameters") or {}).get("details"):
                output["details"] = {
                    "finish_reason": finish,
                    "generated_tokens": len(tokens),
                    "seed": None,
                    "prefill": [],
                    "tokens": [_token(i, t) for i, t in enumerate(tokens)],
                    "top_tokens": None,
                    "best_of_sequences": None,
                }
            self._reply(200, [output] if path == "/" else output)  # TGI's compat route `/` answers a list

    def _chat_completion(self, text, finish, usage):
        fake = self.fake
        return {
            "object": "chat.completion",
            "id": "",
            "created": int(time.time()),
            "model": fake.model_id,
            "system_fingerprint": f"{VERSION}-native",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "tool_calls": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage if fake.send_usage else None,
        }

    def _stream(self, chat, body, tokens, finish, usage, failure):
        fake = self.fake
        include_usage = fake.send_usage and bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        created = int(time.time())
        tokens = tokens or [""]  # an empty answer still ends with a chunk that carries the finish reason
        for i, token in enumerate(tokens):
            if failure and i == min(2, len(tokens) - 1):  # break the stream after a few good tokens
                if failure == "disconnect":
                    self._drop()
                    return
                self._event('{"object": "chat.completion.chunk", "choices": [{"delta": ')
                failure = None
            last = i == len(tokens) - 1
            if chat:
                event = {
                    "object": "chat.completion.chunk",
                    "id": "",
                    "created": created,
                    "model": fake.model_id,
                    "system_fingerprint": f"{VERSION}-native",
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"role": "assistant", "content": token},
                            "logprobs": None,
                            "finish_reason": finish if last else None,
                        }
                    ],
                    # TGI puts the usage on the last token's chunk, when asked for it
                    "usage": usage if last and include_usage else None,
                }
            else:
                event = {
                    "index": i + 1,
                    "token": _token(i, token),
                    "top_tokens": None,
                    "generated_text": "".join(tokens) if last else None,
                    "details": {
                        "finish_reason": finish,
                        "generated_tokens": len(tokens),
                        "input_length": usage["prompt_tokens"],
                        "seed": None,
                    }
                    if last
                    else None,
                }
            self._event(json.dumps(event))
            fake._token_pause()
        if chat:
            self._event("[DONE]")  # with the space after "data:", as axum writes it: the client requires it
        self.wfile.write(b"0\r\n\r\n")

    def _event(self, data: str):
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))

    def _raw(self, status, payload: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self):
        """Close the connection without finishing the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may have gone already
            self.connection.shutdown(socket.SHUT_RDWR)


def _token(i, text):
    return {"id": 1000 + i, "text": text, "logprob": -0.1, "special": False}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fake TGI/TEI server for benchmarks and manual trials.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before the first token")
    parser.add_argument("--tokens-per-second", type=float, default=0.0, help="0 = all tokens at once")
    parser.add_argument("--max-concurrent", type=int, default=128, help="beyond it, answer 429 as TGI does")
    parser.add_argument("--answer", default="Ceci est une réponse de test.")
    parser.add_argument("--echo", action="store_true", help="answer the whole prompt")
    parser.add_argument("--model-id", default="fake/tgi-model")
    args = parser.parse_args(argv)
    fake = FakeInference(
        answer=args.answer,
        latency=args.latency,
        tokens_per_second=args.tokens_per_second,
        max_concurrent=args.max_concurrent,
        echo=args.echo,
        model_id=args.model_id,
        record=False,
        host=args.host,
        port=args.port,
    )
    print(
        f"Fake inference server on {fake.url} (latency {args.latency}s, max {args.max_concurrent} concurrent)",
        flush=True,
    )
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()
