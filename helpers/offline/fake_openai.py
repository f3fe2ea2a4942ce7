"""A small OpenAI-compatible HTTP server on loopback, for the tests and the notebooks' smoke mode.

It speaks just enough of the API for this project, over real HTTP, so the real `openai` client
runs unchanged against it: chat completions (with structured outputs and tool calls), files
(upload, retrieve, content), fine-tuning jobs (create, retrieve, list, events) and batches
(`BATCHES`: create, retrieve). Its replies are not a model:
- a chat answer is a deterministic number derived from the prompt;
- asked for JSON to a schema (`response_format`, as `client.chat.completions.parse` sends), it
  fills the schema; for week 8's selection of deals (objects with a price and a URL) it reads
  the deals listed in the prompt and takes, for each of the first five, the first dollar amount
  that is not "$N off", dropping a deal with none (`stand_in_deals`);
- offered tools, it plays the course's planner by the tools' shapes (`stand_in_plan`): the tool
  without arguments first (the scan), then the one-argument tool once for each deal it returned
  (the estimate), then the tool with several arguments (the notification) for the deal priced
  furthest below its estimate, then "OK";
unless a test scripts what comes next.

    server = FakeOpenAI().start()
    client = OpenAI(base_url=server.url, api_key=server.api_key)
    ...
    server.stop()

Scripting, for tests: `server.script.append(Fault(status=429))` makes the next chat request
fail with that status; `Fault(delay=2.0)` makes it slow; `Fault(reply="about 40 dollars")`
sets the reply text; `Fault(tool_calls=[("name", '{"arg": 1}')])` asks for those tools. Every
request is recorded in `server.requests`.

A batch (the Batch API: a JSONL file of chat requests uploaded with purpose "batch", then
`batches.create`) moves one step each time it is retrieved: `validating`, then `in_progress`
with half its lines answered at each look, then `completed`. Each line is answered exactly as
the chat endpoint would answer its body (scripted faults included), into an output file of
`{"custom_id", "response": {"status_code", "body"}}` lines; a line the chat endpoint could not
answer (no messages, another URL, a scripted error status) goes to the error file under its
custom_id. An input file that is not JSON lines with unique custom_ids fails the whole batch at
`validating`, with the line named in `errors`, as OpenAI does.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers.core.prompts import SUMMARY_SYSTEM
from helpers.offline.loopback import Loopback

JOB_STEPS = ["validating_files", "queued", "running", "running", "succeeded"]
BATCH_ENDPOINTS = ["/v1/chat/completions"]  # the one endpoint a batch may address here
BATCH_WINDOW = "24h"  # the only completion window OpenAI offers


@dataclass
class Fault:
    """What the next chat completion does instead of the default answer."""

    status: int | None = None  # an HTTP error status
    delay: float = 0.0  # seconds to wait before answering
    reply: str | None = None  # reply text
    body: bytes | None = None  # a raw 200 body instead (a page cut short, a proxy's HTML page)
    content_type: str = "application/json"  # the raw body's type
    tool_calls: list[tuple[str, str]] | None = None  # (tool name, its arguments as JSON text) asked for instead


def default_reply(messages: list[dict[str, Any]]) -> str:
    """Not a model: a stable number from the prompt, so runs are reproducible; asked for the
    2025 edition's summary, its five lines made from the item's own words."""

    if messages and messages[0].get("content") == SUMMARY_SYSTEM:
        return fake_summary(messages[-1]["content"])
    text = json.dumps(messages, sort_keys=True)
    return f"{zlib.crc32(text.encode()) % 400 + 10}.00"


def fake_summary(text: str) -> str:
    title, _, rest = text.partition("\n")
    words = rest.split() or title.split()[8:]  # one line of free text: its own words describe it
    return (
        f"Title: {title[:80]}\nCategory: Unknown\nBrand: Unknown\n"
        f"Description: {' '.join(words[:20])}.\nDetails: {' '.join(words[20:40])}."
    )


@dataclass
class FakeOpenAI(Loopback):
    api_key: str = "local-fake-key"
    host: str = "127.0.0.1"
    port: int = 0
    script: deque = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    refuse_fine_tuning: bool = False  # answer a new fine-tuning job as OpenAI does a closed account: 403

    def __post_init__(self):
        self.lock = threading.Lock()
        self.batch_lock = threading.Lock()  # one batch step at a time (it answers lines through _chat)
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None, "start() the server first"
        return f"http://{self.host}:{self.httpd.server_address[1]}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/v1/chat/completions"]

    def start(self) -> FakeOpenAI:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._dispatch(self, "GET")

            def do_POST(self):
                server._dispatch(self, "POST")

        self.serve(_Quiet((self.host, self.port), Handler), "fake-openai")
        return self

    # --- plumbing --------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path.split("?")[0]
        query = dict(p.split("=", 1) for p in handler.path.split("?", 1)[1].split("&")) if "?" in handler.path else {}
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "body": body})
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            sent = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
            # Like a real server, the error echoes the key it was given: callers must not repeat it.
            return self._send(handler, 401, _error(f"Incorrect API key provided: {sent}", "invalid_api_key"))
        try:
            status, payload, headers = self._route(method, path, query, body, handler.headers)
        except Exception as error:  # a bug in the fake should look like a server error
            status, payload, headers = 500, _error(f"fake server error: {error}", "server_error"), {}
        self._send(handler, status, payload, headers)

    def _send(self, handler, status: int, payload: dict | bytes, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _route(self, method: str, path: str, query: dict, body: bytes, headers) -> tuple[int, dict, dict]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if method == "POST" and parts == ["chat", "completions"]:
            return self._chat(json.loads(body))
        if method == "POST" and parts == ["files"]:
            return 200, self._upload(body, headers.get("Content-Type", "")), {}
        if method == "GET" and parts[:1] == ["files"] and len(parts) in (2, 3):
            return self._file(parts[1], content=parts[2:] == ["content"])
        if parts[:1] == ["batches"]:
            return self._batches(method, parts[1:], body)
        if parts[:2] == ["fine_tuning", "jobs"]:
            return self._jobs(method, parts[2:], query, body)
        return 404, _error(f"no route for {method} {path}", "not_found"), {}

    # --- chat --------------------------------------------------------------------------------

    def _chat(self, request: dict[str, Any]) -> tuple[int, dict, dict]:
        with self.lock:
            fault = self.script.popleft() if self.script else Fault()
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status:
            return fault.status, _error(f"scripted status {fault.status}", "scripted"), {"retry-after-ms": "10"}
        if fault.body is not None:
            return 200, fault.body, {"Content-Type": fault.content_type}
        messages = request["messages"]
        calls = fault.tool_calls
        if calls is None and fault.reply is None and request.get("tools"):
            calls = stand_in_plan(messages, request["tools"])
        if calls:
            message = {"role": "assistant", "content": None, "tool_calls": _tool_calls(calls, len(self.requests))}
            reply, finish = json.dumps(message["tool_calls"]), "tool_calls"
        else:
            reply = fault.reply
            if reply is None:
                reply = "OK" if request.get("tools") else _answer(messages, request.get("response_format"))
            message, finish = {"role": "assistant", "content": reply}, "stop"
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in messages) // 4
        completion_tokens = max(1, len(reply) // 4)
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )

    # --- files and fine-tuning ---------------------------------------------------------------

    def _upload(self, body: bytes, content_type: str) -> dict[str, Any]:
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        filename, content = fields["file"]
        purpose = fields.get("purpose", (None, b"fine-tune"))[1].decode()
        file_id = self._add_file(filename, purpose, content)
        return {k: v for k, v in self.files[file_id].items() if k != "content"}

    def _add_file(self, filename: str, purpose: str, content: bytes) -> str:
        with self.lock:
            file_id = f"file-{len(self.files) + 1:04d}"
            self.files[file_id] = {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
                "content": content.decode(),
            }
        return file_id

    def _file(self, file_id: str, content: bool) -> tuple[int, dict | bytes, dict]:
        if file_id not in self.files:
            return 404, _error(f"No such File object: {file_id}", "not_found"), {}
        if content:
            return 200, self.files[file_id]["content"].encode(), {"Content-Type": "application/octet-stream"}
        return 200, {k: v for k, v in self.files[file_id].items() if k != "content"}, {}

    # --- batches -------------------------------------------------------------------------------

    def _batches(self, method: str, rest: list[str], body: bytes) -> tuple[int, dict, dict]:
        if method == "POST" and not rest:
            return self._create_batch(json.loads(body))
        if method == "GET" and len(rest) == 1:
            if rest[0] not in self.batches:
                return 404, _error(f"No batch found with id '{rest[0]}'.", "not_found"), {}
            with self.batch_lock:
                self._step_batch(self.batches[rest[0]])
                return 200, _public(self.batches[rest[0]]), {}
        return 404, _error("no such batch route", "not_found"), {}

    def _create_batch(self, request: dict[str, Any]) -> tuple[int, dict, dict]:
        source = self.files.get(request.get("input_file_id", ""))
        if source is None:
            return 400, _error(f"Invalid input_file_id: {request.get('input_file_id')!r} not found", "invalid_file"), {}
        if source["purpose"] != "batch":
            return 400, _error(f"input file purpose is {source['purpose']!r}, expected 'batch'", "invalid_file"), {}
        if request.get("endpoint") not in BATCH_ENDPOINTS:
            return 400, _error(f"endpoint must be one of {BATCH_ENDPOINTS}", "invalid_value"), {}
        if request.get("completion_window") != BATCH_WINDOW:
            return 400, _error(f"completion_window must be {BATCH_WINDOW!r}", "invalid_value"), {}
        now = int(time.time())
        with self.batch_lock:
            batch_id = f"batch_{len(self.batches) + 1:04d}"
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": request["endpoint"],
                "input_file_id": request["input_file_id"],
                "completion_window": BATCH_WINDOW,
                "status": "validating",
                "created_at": now,
                "expires_at": now + 24 * 3600,
                "metadata": request.get("metadata"),
                "errors": None,
                "output_file_id": None,
                "error_file_id": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "_lines": [],
                "_answers": [],  # (custom_id, status, body) for each line answered so far
            }
        return 200, _public(self.batches[batch_id]), {}

    def _step_batch(self, batch: dict[str, Any]) -> None:
        """One look moves the batch on: validating, then in progress (half the lines answered at
        each look), then completed with its output and error files."""
        now = int(time.time())
        if batch["status"] == "validating":
            lines, problems = _batch_lines(self.files[batch["input_file_id"]]["content"])
            if problems:
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": problems})
                return
            model = next((line["body"].get("model") for line in lines if isinstance(line.get("body"), dict)), None)
            batch.update(status="in_progress", in_progress_at=now, model=model, _lines=lines)
            batch["request_counts"]["total"] = len(lines)
            return
        if batch["status"] != "in_progress":
            return
        lines, answers = batch["_lines"], batch["_answers"]
        for line in lines[len(answers) : len(answers) + max(1, -(-len(lines) // 2))]:
            answers.append((line["custom_id"], *self._answer_line(line, batch["endpoint"])))
        counts = batch["request_counts"]
        counts["completed"] = sum(status == 200 for _, status, _ in answers)
        counts["failed"] = len(answers) - counts["completed"]
        if len(answers) < len(lines):
            return
        done = [_output_line(batch["id"], n, a) for n, a in enumerate(answers) if a[1] == 200]
        failed = [_output_line(batch["id"], n, a) for n, a in enumerate(answers) if a[1] != 200]
        for key, rows, suffix in (("output_file_id", done, "output"), ("error_file_id", failed, "error")):
            if rows:
                text = "".join(json.dumps(row) + "\n" for row in rows).encode()
                batch[key] = self._add_file(f"{batch['id']}_{suffix}.jsonl", "batch_output", text)
        tokens = [body.get("usage") or {} for _, status, body in answers if status == 200]
        prompt, completion = (sum(t.get(k, 0) for t in tokens) for k in ("prompt_tokens", "completion_tokens"))
        batch["usage"] = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }
        batch.update(status="completed", finalizing_at=now, completed_at=now)

    def _answer_line(self, line: dict[str, Any], endpoint: str) -> tuple[int, dict]:
        """The chat endpoint's answer to one line's body, or why it has none."""
        body = line.get("body")
        if line.get("method") != "POST" or line.get("url") != endpoint:
            why = f"the line asks {line.get('method')} {line.get('url')}, this batch is for POST {endpoint}"
            return 400, _error(why, "invalid_request")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return 400, _error("body.model is missing", "missing_required_parameter")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, _error("body.messages must be a non-empty list", "missing_required_parameter")
        status, payload, _ = self._chat(body)
        if isinstance(payload, bytes):  # a scripted raw page: no chat completion
            return 502, _error("the model's reply was not JSON", "server_error")
        return status, payload

    def _jobs(self, method: str, rest: list[str], query: dict, body: bytes) -> tuple[int, dict, dict]:
        if method == "POST" and not rest and self.refuse_fine_tuning:
            message = "You do not have access to fine-tuning. Fine-tuning is not available for this account."
            return 403, _error(message, "permission_denied"), {}
        if method == "POST" and not rest:
            request = json.loads(body)
            for key in ("training_file", "validation_file"):
                if request.get(key) and request[key] not in self.files:
                    return 400, _error(f"{key} {request[key]} not found", "invalid_file"), {}
            job_id = f"ftjob-{len(self.jobs) + 1:04d}"
            self.jobs[job_id] = {
                "id": job_id,
                "object": "fine_tuning.job",
                "created_at": int(time.time()),
                "model": request["model"],
                "training_file": request["training_file"],
                "validation_file": request.get("validation_file"),
                "seed": request.get("seed", 0),
                "hyperparameters": request.get("hyperparameters") or {"n_epochs": "auto"},
                "integrations": request.get("integrations") or [],
                "suffix": request.get("suffix"),
                "status": JOB_STEPS[0],
                "fine_tuned_model": None,
                "organization_id": "org-local",
                "result_files": [],
                "trained_tokens": None,
                "error": None,
                "finished_at": None,
                "_step": 0,
                "_events": [],
            }
            self._event(job_id, "Created fine-tuning job")
            return 200, self._public(job_id), {}
        if not rest or rest[0] not in self.jobs:
            return 404, _error("job not found", "not_found"), {}
        job_id = rest[0]
        if method == "GET" and len(rest) == 1:
            self._advance(job_id)
            return 200, self._public(job_id), {}
        if method == "GET" and rest[1:] == ["events"]:
            events = list(reversed(self.jobs[job_id]["_events"]))  # newest first, like the API
            limit = int(query.get("limit", 20))
            return 200, {"object": "list", "data": events[:limit], "has_more": len(events) > limit}, {}
        return 404, _error("no such job route", "not_found"), {}

    def _advance(self, job_id: str) -> None:
        """Each retrieve moves the job one step along, with an event for each step."""
        job = self.jobs[job_id]
        if job["_step"] >= len(JOB_STEPS) - 1:
            return
        job["_step"] += 1
        job["status"] = JOB_STEPS[job["_step"]]
        if job["status"] == "running":
            step = JOB_STEPS[: job["_step"] + 1].count("running")
            self._event(job_id, f"Step {step}/{JOB_STEPS.count('running')}: training loss={1.5 / step:.2f}")
        elif job["status"] == "succeeded":
            suffix = job["suffix"] or "custom"
            job["fine_tuned_model"] = f"ft:{job['model']}:local:{suffix}:{job_id[-4:]}"
            job["finished_at"] = int(time.time())
            job["trained_tokens"] = len(self.files[job["training_file"]]["content"]) // 4
            self._event(job_id, f"New fine-tuned model created: {job['fine_tuned_model']}")
            self._event(job_id, "The job has successfully completed")
        else:
            self._event(job_id, f"Job {job['status'].replace('_', ' ')}")

    def _event(self, job_id: str, message: str) -> None:
        events = self.jobs[job_id]["_events"]
        events.append(
            {
                "id": f"ftevent-{job_id[-4:]}-{len(events) + 1:03d}",
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": "info",
                "message": message,
                "type": "message",
            }
        )

    def _public(self, job_id: str) -> dict[str, Any]:
        return _public(self.jobs[job_id])


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _batch_lines(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch's input file as request lines, or the problems that fail the whole batch: a line
    that is not a JSON object, one without a custom_id, a custom_id used twice."""
    lines, problems, seen = [], [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = None
        if not isinstance(line, dict):
            problems.append(_batch_error("invalid_json_line", number, "This line is not parseable as valid JSON."))
        elif not isinstance(line.get("custom_id"), str) or not line["custom_id"]:
            problems.append(_batch_error("missing_required_parameter", number, "custom_id is missing", "custom_id"))
        elif line["custom_id"] in seen:
            problems.append(_batch_error("duplicate_custom_id", number, "custom_id must be unique", "custom_id"))
        else:
            seen.add(line["custom_id"])
            lines.append(line)
    if not lines and not problems:
        problems.append(_batch_error("empty_file", None, "The input file has no requests."))
    return lines, problems


def _batch_error(code: str, line: int | None, message: str, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "line": line, "message": message, "param": param}


def _output_line(batch_id: str, number: int, answer: tuple[str, int, dict]) -> dict[str, Any]:
    custom_id, status, body = answer
    return {
        "id": f"batch_req_{batch_id[-4:]}_{number + 1:05d}",
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": f"req_{batch_id[-4:]}_{number + 1:05d}", "body": body},
        "error": None,
    }


def _answer(messages: list[dict[str, Any]], response_format: dict[str, Any] | None) -> str:
    """A plain reply, or JSON to the schema asked for."""
    if response_format and response_format.get("type") == "json_schema":
        schema = response_format["json_schema"]["schema"]
        return json.dumps(stand_in_object(schema, schema, str(messages[-1].get("content") or "")))
    return default_reply(messages)


# --- structured outputs ----------------------------------------------------------------------

PRICE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)(?![\d,.]*\s*off)", re.I)  # "$129.99", not "$40 off"


def stand_in_deals(prompt: str, limit: int = 5) -> list[dict[str, Any]]:
    """The deals listed in a prompt ("Title: ...", "Details: ...", "Features: ...", "URL: ..."),
    each with the first dollar amount that is not a discount ("$40 off"); a deal with none is
    dropped, as a careful model would; the first `limit` kept."""
    deals = []
    for block in re.split(r"\n\s*\n", prompt):
        fields = dict(re.findall(r"^(Title|Details|Features|URL): ?(.*)$", block, re.M))
        found = PRICE.search(f"{fields.get('Details', '')} {fields.get('Features', '')}")
        if "Title" not in fields or "URL" not in fields or found is None:
            continue
        # the product, not the offer (a price in the description would be read by the pricers);
        # the title's "(simulated deal)" stays, so the app's table says what each deal is
        title = re.sub(r"\s+for \$[\d,.]+(?: off)?", "", fields["Title"])
        details = " ".join(s for s in re.split(r"(?<=[.!?])\s+", fields.get("Details", "")) if "$" not in s)
        description = f"{title}. {details}".strip()[:400]
        deals.append({"description": description, "price": float(found[1].replace(",", "")), "url": fields["URL"]})
    return deals[:limit]


def stand_in_object(schema: dict[str, Any], root: dict[str, Any], prompt: str) -> Any:
    """A value that fits `schema`: for a list of objects with a price and a URL, the deals in the
    prompt; otherwise placeholders of each type."""
    if "$ref" in schema:
        return stand_in_object(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, prompt)
    kind = schema.get("type")
    if kind == "array":
        shape = schema.get("items", {})
        shape = root["$defs"][shape["$ref"].rsplit("/", 1)[1]] if "$ref" in shape else shape
        fields = shape.get("properties", {})
        if "url" in fields and "price" in fields:
            text = next(name for name, field in fields.items() if field.get("type") == "string" and name != "url")
            return [{text: d["description"], "price": d["price"], "url": d["url"]} for d in stand_in_deals(prompt)]
        return [stand_in_object(shape, root, prompt)]
    if kind == "object":
        return {name: stand_in_object(field, root, prompt) for name, field in schema.get("properties", {}).items()}
    return {"string": "stand-in", "number": 1.0, "integer": 1, "boolean": True}.get(kind)


# --- tool calls ------------------------------------------------------------------------------


def _tool_calls(calls: list[tuple[str, str]], number: int) -> list[dict[str, Any]]:
    return [
        {"id": f"call_{number}_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
        for i, (name, arguments) in enumerate(calls)
    ]


def stand_in_plan(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[tuple[str, str]] | None:
    """The course's planner, played by the tools' shapes rather than by reading: the tool that
    takes no argument (scan), then the one-argument tool for each deal (estimate), then the tool
    with more arguments (notify) for the deal furthest below its estimate; None when done."""
    functions = [tool["function"] for tool in tools if tool.get("type") == "function"]
    by_arguments = {len(f.get("parameters", {}).get("required", [])): f["name"] for f in functions}
    scan, estimate, notify = by_arguments.get(0), by_arguments.get(1), max(by_arguments.items())[1]
    answers = {m.get("tool_call_id"): str(m.get("content") or "") for m in messages if m.get("role") == "tool"}
    asked = [call for m in messages if m.get("role") == "assistant" for call in (m.get("tool_calls") or [])]
    asked = [call for call in asked if not answers.get(call["id"], "").startswith("Error")]  # a failed call: not made
    names = [call["function"]["name"] for call in asked]
    if scan and scan not in names:
        return [(scan, "{}")]
    if notify in names:
        return None
    deals = _deals_in(answers.get(next((c["id"] for c in asked if c["function"]["name"] == scan), ""), ""))
    if not deals:
        return None
    if estimate and estimate not in names:
        return [(estimate, json.dumps({"description": d["product_description"]})) for d in deals]
    estimates = [_last_number(answers.get(c["id"], "")) for c in asked if c["function"]["name"] == estimate]
    scored = [(e - d["price"], d, e) for d, e in zip(deals, estimates) if e is not None]
    if not scored:
        return None
    _, deal, value = max(scored, key=lambda row: row[0])
    arguments = {"description": deal["product_description"], "deal_price": deal["price"]}
    return [(notify, json.dumps({**arguments, "estimated_true_value": value, "url": deal["url"]}))]


def _deals_in(text: str) -> list[dict[str, Any]]:
    try:
        deals = json.loads(text).get("deals", [])
    except (json.JSONDecodeError, AttributeError):
        return []
    return [d for d in deals if isinstance(d, dict) and {"product_description", "price", "url"} <= d.keys()]


def _last_number(text: str) -> float | None:
    found = re.findall(r"\d[\d,]*(?:\.\d+)?", text)
    return float(found[-1].replace(",", "")) if found else None


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (after a reply it could not read) is no server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
