"""A small OpenAI-compatible chat server for tests, on 127.0.0.1 over real HTTP.

It serves ``POST /v1/chat/completions`` (plain and streamed as server-sent events, with
plain text, ``response_format`` JSON and ``tools`` function calls) and ``GET /v1/models``.
Each request takes the next queued behaviour, or ``default`` when the queue is empty, and
every request body is recorded, so a test can assert on the prompts that were sent::

    server = OpenAIServer().start()
    server.enqueue(Reply("ふざけるな。"), Fail(429), Slow(5))
    ...  # point ChatOpenAI at server.base_url
    server.requests[0]["messages"]
    server.stop()

A ``Reply`` answers in the shape the request asks for: a tool call with the text as JSON
arguments when the request offers ``tools``, else message content.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """Answer with ``text`` (streamed ``chunk_size`` characters at a time)."""

    text: str
    chunk_size: int = 4
    chunk_delay: float = 0.0


@dataclass
class Fail:
    """Answer with an HTTP error status and an OpenAI-style error body."""

    status: int
    message: str = "simulated failure"


@dataclass
class Slow:
    """Wait ``seconds`` (past the client's timeout, typically), then do ``then``."""

    seconds: float
    then: Reply | Fail | None = None


@dataclass
class Malformed:
    """Answer 200 with a body that is not a valid completion (or a broken event stream)."""

    body: str = '{"id": "chatcmpl-broken", "choices": [ {"message": '


@dataclass
class Hangup:
    """Close the connection without answering."""


Behaviour = Reply | Fail | Slow | Malformed | Hangup
Responder = Behaviour | Callable[[dict[str, Any]], Behaviour]


def reply_json(obj: Any) -> Reply:
    return Reply(json.dumps(obj, ensure_ascii=False), chunk_size=16)


class OpenAIServer:
    def __init__(self, default: Responder | None = None) -> None:
        self.default: Responder = default or Reply("それで、どうしてくれるんだ。")
        self.requests: list[dict[str, Any]] = []
        self._queue: deque[Responder] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> OpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # a handler still sleeping in Slow must not hold up stop()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; afterwards a client gets connection refused."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *behaviours: Responder) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def last_request(self) -> dict[str, Any]:
        return self.requests[-1]

    def messages(self, index: int = -1) -> list[dict[str, Any]]:
        """The ``messages`` of a recorded request, content flattened to text."""
        out = []
        for m in self.requests[index]["messages"]:
            content = m.get("content")
            if isinstance(content, list):
                content = "".join(part.get("text", "") for part in content)
            out.append({**m, "content": content or ""})
        return out

    # ------------------------------------------------------------------ internals

    def _next(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            self.requests.append(body)
            responder = self._queue.popleft() if self._queue else self.default
        return responder(body) if callable(responder) else responder

    def _wait(self, seconds: float) -> bool:
        """Sleep; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when it closes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            self._respond(body, self.owner._next(body))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _respond(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        if isinstance(behaviour, Slow):
            if not self.owner._wait(behaviour.seconds):
                return
            self._respond(body, behaviour.then or Reply("……遅くなったな。"))
        elif isinstance(behaviour, Fail):
            kind = "rate_limit_error" if behaviour.status == 429 else "server_error"
            self._json(
                behaviour.status, {"error": {"message": behaviour.message, "type": kind, "code": None}}
            )
        elif isinstance(behaviour, Malformed):
            if body.get("stream"):
                self._start_stream()
                self._event(behaviour.body)
            else:
                self._raw(200, behaviour.body.encode())
        elif isinstance(behaviour, Hangup):
            self.close_connection = True
        elif body.get("stream"):
            self._stream(body, behaviour)
        else:
            self._json(200, _completion(body, behaviour.text))

    # ------------------------------------------------------------------ writing

    def _raw(self, status: int, data: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj: Any) -> None:
        self._raw(status, json.dumps(obj, ensure_ascii=False).encode())

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _event(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        self._start_stream()
        for chunk in _chunks(body, reply):
            self._event(json.dumps(chunk, ensure_ascii=False))
            if reply.chunk_delay and not self.owner._wait(reply.chunk_delay):
                return
        self._event("[DONE]")


def _tool_name(body: dict[str, Any]) -> str | None:
    """The function the request asks to be called, if it offers tools."""
    tools = body.get("tools") or []
    if not tools:
        return None
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    return str(tools[0]["function"]["name"])


def _envelope(body: dict[str, Any], obj: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": obj, "created": int(time.time()), "model": body.get("model", "")}


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    tool = _tool_name(body)
    message: dict[str, Any]
    if tool:
        call = {"id": "call_fake", "type": "function", "function": {"name": tool, "arguments": text}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    else:
        message = {"role": "assistant", "content": text}
    return {
        **_envelope(body, "chat.completion"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunks(body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
    tool = _tool_name(body)
    size = max(1, reply.chunk_size)
    pieces = [reply.text[i : i + size] for i in range(0, len(reply.text), size)]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **_envelope(body, "chat.completion.chunk"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    if tool:
        head = {
            "index": 0,
            "id": "call_fake",
            "type": "function",
            "function": {"name": tool, "arguments": ""},
        }
        yield chunk({"role": "assistant", "content": None, "tool_calls": [head]})
        for piece in pieces:
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls")
    else:
        yield chunk({"role": "assistant", "content": ""})
        for piece in pieces:
            yield chunk({"content": piece})
        yield chunk({}, "stop")
