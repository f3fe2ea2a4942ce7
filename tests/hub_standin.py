"""A stand-in for the parts of the Hugging Face hub's HTTP API that a store on the hub uses:
create a data set repo, read its newest commit, download a file at a commit, and commit a small
file, refused (412) when the commit's parent is no longer the newest, as the hub refuses it.

`HubStandIn(writers=2)` holds every commit until that many writers have read the file, so that
they all start from the same commit and all but one must retry: the race made certain.
`HubStandIn(read_only=True)` refuses every commit (403), as the hub refuses a read-only token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = r"(?P<repo>[^/]+/[^/]+)"


class HubStandIn:
    def __init__(self, writers: int = 1, read_only: bool = False):
        self.writers = writers
        self.read_only = read_only  # commits refused (403), as for a token that may only read
        self.lock = threading.Lock()
        self.commits: dict[str, dict[str, bytes]] = {"0" * 40: {}}
        self.head = "0" * 40
        self.reads = 0
        self.conflicts = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> HubStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self) -> dict[str, bytes]:
        return self.commits[self.head]

    def _commit(self, repo: str, parent: str | None, files: dict[str, bytes]) -> tuple[int, dict]:
        deadline = time.time() + 10
        while self.reads < self.writers and time.time() < deadline:
            time.sleep(0.02)  # every writer reads the same commit before the first one commits
        with self.lock:
            if parent and parent != self.head:
                self.conflicts += 1
                return 412, {"error": "A commit has happened since. Please refresh and try again."}
            tree = {**self.commits[self.head], **files}
            sha = hashlib.sha1(json.dumps(sorted((k, v.hex()) for k, v in tree.items())).encode()).hexdigest()
            sha = hashlib.sha1(f"{self.head}{sha}{len(self.commits)}".encode()).hexdigest()
            self.commits[sha], self.head = tree, sha
            return 200, {
                "commitUrl": f"{self.url}/datasets/{repo}/commit/{sha}",
                "commitOid": sha,
                "pullRequestUrl": None,
            }

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def reply(self, status: int, body: dict | bytes = b"", headers: dict | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                path = self.path.split("?")[0]
                if path == "/api/repos/create":
                    name = json.loads(self.body())
                    return self.reply(200, {"url": f"{hub.url}/datasets/{name.get('organization')}/{name['name']}"})
                if re.fullmatch(rf"/api/datasets/{REPO}/preupload/[^/]+", path):
                    files = json.loads(self.body())["files"]
                    modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
                    return self.reply(200, {"files": modes})
                commit = re.fullmatch(rf"/api/datasets/{REPO}/commit/[^/]+", path)
                if commit and hub.read_only:
                    return self.reply(403, {"error": "You don't have the rights to create a commit"})
                if commit:
                    lines = [json.loads(line) for line in self.body().splitlines() if line.strip()]
                    parent = next(line["value"] for line in lines if line["key"] == "header").get("parentCommit")
                    files = {
                        line["value"]["path"]: base64.b64decode(line["value"]["content"])
                        for line in lines
                        if line["key"] == "file"
                    }
                    return self.reply(*hub._commit(commit["repo"], parent, files))
                self.reply(404, {"error": f"no {path} here"})

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if re.fullmatch(rf"/api/datasets/{REPO}(/revision/[^/]+)?", path):
                    repo = re.match(rf"/api/datasets/{REPO}", path)["repo"]
                    return self.reply(200, {"id": repo, "sha": hub.head, "private": True, "siblings": []})
                found = re.fullmatch(rf"/datasets/{REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path)
                if found:
                    if self.command == "HEAD" and found["file"] != ".gitattributes":
                        with hub.lock:
                            hub.reads += 1
                    content = hub.commits.get(found["rev"], {}).get(found["file"])
                    if content is None:
                        return self.reply(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                    etag = f'"{hashlib.sha1(content).hexdigest()}"'
                    return self.reply(200, content, {"ETag": etag, "X-Repo-Commit": found["rev"]})
                self.reply(404, {"error": f"no {path} here"})

            do_HEAD = do_GET

        return Handler
