"""Processes pricer starts, and how they end: never as orphans, never leaving half a file.

A child process (a served engine, a worker that parses raw lines) ends when the process that
started it ends, however that ends (a `kill -9`, a notebook kernel killed): on Linux the kernel
sends it SIGTERM (`PR_SET_PDEATHSIG`). A SIGTERM to the command line unwinds like Ctrl-C
(`Terminated`, a KeyboardInterrupt), so every `finally` runs and no temporary file stays behind.
"""

from __future__ import annotations

import os
import signal
import sys


def die_with_parent(parent: int | None = None) -> None:
    """In a child process, on Linux: end (SIGTERM) when the process that started it ends, rather
    than live on as an orphan holding a GPU, a port, or nothing but memory. With `parent` (the
    starter's pid), a child whose parent died before this call ends at once."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the parent was gone before the kernel was asked to tell us


def pool_worker_start(parent: int) -> None:
    """The initializer of a pool's worker: the default SIGTERM (a forked worker inherits the
    command line's, which would unwind it like Ctrl-C) and an end with its parent."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


class Terminated(KeyboardInterrupt):
    """A SIGTERM, unwound like Ctrl-C: requests cancelled, temporary files removed, locks let go."""


def _terminated(signum, frame) -> None:
    raise Terminated


def unwind_on_sigterm() -> None:
    """From now on a SIGTERM raises `Terminated` in the main thread (the command line's entry)."""
    signal.signal(signal.SIGTERM, _terminated)
