"""A fake LLM upstream on loopback that speaks the three streaming formats, scripted per test.

Why: the gateway's behaviour under a misbehaving provider (slow first token, 429 with
Retry-After, 5xx, quota errors, malformed chunks, a connection cut mid-stream, an endless
answer) can only be tested against an upstream that misbehaves on purpose and exactly when told.

One FakeLLM serves OpenAI Chat Completions (POST .../chat/completions), Anthropic Messages
(POST .../v1/messages) and Gemini (POST .../models/{model}:streamGenerateContent?alt=sse). The
script is a queue of responses per model name (the request's "model", or Gemini's path); a model
with an empty queue gets a normal stream of DEFAULT_TEXT. script_matching(model, needle, ...) queues
responses for that model's requests whose JSON body contains needle (e.g. a marker of the
conversation-analysis prompt); those are served before the model's plain queue. Every request is recorded (path,
headers, JSON body, time). Responses are sent with chunked transfer encoding, so "drop" (closing
the socket without the last chunk) is a real cut the client can tell from a normal end.

A response is a dict:
    status      HTTP status (200)
    headers     extra headers, e.g. {"Retry-After": "1"}
    body        for non-200: the JSON (dict) or text body
    events      for 200: the SSE records (str, already framed), e.g. from openai_stream(...)
    first_delay seconds before the first event;  delay: seconds between events
    drop_after  close the connection after this many events, without ending the stream
    huge        after the events, this many bytes of valid-looking chunks (the size cap test)
"""

import http.server
import json
import socket
import socketserver
import threading
import time
from collections import defaultdict, deque

DEFAULT_TEXT = ["Hello", " from", " the", " fake"]


def _sse(data, event=None):
    head = ("event: %s\n" % event) if event else ""
    return head + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"


def openai_stream(texts, prompt=10, completion=None, model="m"):
    completion = len(texts) if completion is None else completion
    out = []
    for i, t in enumerate(texts):
        delta = {"content": t} if i else {"role": "assistant", "content": t}
        out.append(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                         "model": model, "choices": [{"index": 0, "delta": delta,
                                                      "finish_reason": None}], "usage": None}))
    out.append(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                     "model": model, "choices": [{"index": 0, "delta": {},
                                                  "finish_reason": "stop"}], "usage": None}))
    out.append(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                     "model": model, "choices": [],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}}))
    out.append("data: [DONE]\n\n")
    return out


def anthropic_stream(texts, prompt=10, completion=None, model="m"):
    completion = len(texts) if completion is None else completion
    out = [_sse({"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": model,
        "stop_reason": None, "usage": {"input_tokens": prompt, "output_tokens": 1}}},
        "message_start"),
        _sse({"type": "content_block_start", "index": 0,
              "content_block": {"type": "text", "text": ""}}, "content_block_start"),
        _sse({"type": "ping"}, "ping")]
    for t in texts:
        out.append(_sse({"type": "content_block_delta", "index": 0,
                         "delta": {"type": "text_delta", "text": t}}, "content_block_delta"))
    out.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    out.append(_sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                     "usage": {"output_tokens": completion}}, "message_delta"))
    out.append(_sse({"type": "message_stop"}, "message_stop"))
    return out


def gemini_stream(texts, prompt=10, completion=None, model="m"):
    completion = len(texts) if completion is None else completion
    out = []
    for i, t in enumerate(texts):
        last = i == len(texts) - 1
        cand = {"content": {"parts": [{"text": t}], "role": "model"}, "index": 0}
        chunk = {"candidates": [cand], "modelVersion": model}
        if last:
            cand["finishReason"] = "STOP"
            chunk["usageMetadata"] = {"promptTokenCount": prompt,
                                      "candidatesTokenCount": completion,
                                      "totalTokenCount": prompt + completion}
        out.append(_sse(chunk))
    return out


STREAMS = {"openai": openai_stream, "anthropic": anthropic_stream, "gemini": gemini_stream}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        fake = self.server.fake
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        path = self.path
        if "/chat/completions" in path:
            kind = "openai"
        elif path.endswith("/v1/messages"):
            kind = "anthropic"
        elif ":streamGenerateContent" in path:
            kind = "gemini"
        else:
            kind = None
        model = (body or {}).get("model") if kind != "gemini" else \
            path.split("/models/")[-1].split(":")[0]
        fake._record(dict(path=path, kind=kind, model=model, body=body,
                          headers={k.lower(): v for k, v in self.headers.items()},
                          time=time.monotonic()))
        if kind is None:        # /hook: a webhook receiver (the daily usage summary)
            if path.startswith("/hook"):
                return self._plain(200, {"ok": True})
            return self._plain(404, {"error": {"message": "no such route"}})
        spec = fake._next(model, raw) or {"events": STREAMS[kind](DEFAULT_TEXT, model=model)}
        status = spec.get("status", 200)
        if status != 200:
            return self._plain(status, spec.get("body", {"error": {"message": "scripted"}}),
                               spec.get("headers"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (spec.get("headers") or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self._stream(spec, fake)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            fake._record_abort(model)

    def _stream(self, spec, fake):
        if spec.get("first_delay"):
            if not fake._sleep(spec["first_delay"], self.connection):
                fake._record_abort(self.path)
                return
        events = spec.get("events") or []
        for i, ev in enumerate(events):
            if spec.get("drop_after") is not None and i >= spec["drop_after"]:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if i and spec.get("delay"):
                if not fake._sleep(spec["delay"], self.connection):
                    fake._record_abort(self.path)
                    return
            self._chunk(ev.encode())
        huge = spec.get("huge") or 0
        line = ("data: " + json.dumps({"id": "x", "object": "chat.completion.chunk",
                                       "choices": [{"index": 0, "delta": {"content": "z" * 900}}]})
                + "\n\n").encode()
        sent = 0
        while sent < huge:
            self._chunk(line)
            sent += len(line)
        self._chunk(b"")
        self.close_connection = True

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _plain(self, status, body, headers=None):
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class FakeLLM:
    def __init__(self):
        self._lock = threading.Lock()
        self._scripts = defaultdict(deque)
        self._matching = []         # [(model, needle bytes, deque)]
        self.requests = []
        self.aborts = []
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, model, *responses):
        with self._lock:
            self._scripts[model].extend(responses)

    def script_matching(self, model, needle, *responses):
        with self._lock:
            self._matching.append((model, needle.encode(), deque(responses)))

    def requests_for(self, model):
        with self._lock:
            return [r for r in self.requests if r["model"] == model]

    def _record(self, r):
        with self._lock:
            self.requests.append(r)

    def _record_abort(self, what):
        with self._lock:
            self.aborts.append(what)

    def _next(self, model, raw=b""):
        with self._lock:
            for m, needle, q in self._matching:
                if m == model and q and needle in raw:
                    return q.popleft()
            q = self._scripts.get(model)
            return q.popleft() if q else None

    @staticmethod
    def _sleep(seconds, conn):
        """Sleep, but notice a client that hung up (returns False then)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                conn.settimeout(min(0.05, max(0.001, end - time.monotonic())))
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return False
            except socket.timeout:
                pass
            except OSError:
                return False
        conn.settimeout(None)
        return True
