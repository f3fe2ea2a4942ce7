"""What the stand-in servers share: an HTTP server on loopback, in a daemon thread, started and
stopped (or used in a `with` block)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class Loopback:
    """Subclasses make their server in `start()` and hand it to `serve`."""

    httpd: ThreadingHTTPServer | None = None

    def start(self):
        raise NotImplementedError

    def serve(self, httpd: ThreadingHTTPServer, name: str) -> None:
        self.httpd = httpd
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True, name=name).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
