"""Run one function in a forked copy of this process and get its result (or its error) back.

Used to draw half of the 街道 maps on the second core.  The child shares everything made
before the fork (copy-on-write) and sends back a pickled result; an exception it raises is
raised again by :meth:`Forked.result`, and a child that dies without answering becomes a
:class:`ForkError`.  Only for short, self-contained work: the child ends with ``os._exit``.
"""
from __future__ import annotations

import os
import pickle
import sys
import threading
from typing import Any, Callable

from .errors import ReportAtlasError


class ForkError(ReportAtlasError, OSError):
    """A forked helper process stopped without an answer."""


def can_fork() -> bool:
    """A POSIX fork of a process running no other Python thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


def portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ForkError saying what it was."""
    try:
        return pickle.loads(pickle.dumps(exc))
    except Exception:
        return ForkError(f"{type(exc).__name__}: {exc}")


def reap(pid: int) -> int | None:
    """Wait for a forked child; its exit code (negative: the signal that ended it), or None
    when it was already reaped."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def exit_child(code: int) -> None:  # pragma: no cover - runs in a child
    """End a forked child at once (no atexit handlers, no parent's cleanup run twice),
    with what it printed flushed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


class Forked:
    """``fn()`` started now in a forked child; :meth:`result` waits for it.  OSError when
    no process can be made (the caller may then call ``fn`` itself)."""

    def __init__(self, fn: Callable[[], Any], *, what: str = "a helper process") -> None:
        self.what = what
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:  # pragma: no cover - the child
            os.close(read_fd)
            code = 1
            try:
                try:
                    answer = ("ok", fn())
                except BaseException as exc:  # noqa: BLE001 - raised again in the parent
                    answer = ("error", portable(exc))
                with os.fdopen(write_fd, "wb") as out:
                    pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                exit_child(code)
        os.close(write_fd)
        self.pid: int | None = pid
        self._answers = os.fdopen(read_fd, "rb")

    def result(self) -> Any:
        """The child's return value; its exception raised again; ForkError if it died."""
        try:
            status, payload = pickle.load(self._answers)
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.close()
            raise ForkError(f"{self.what} stopped (exit status {code})") from None
        self.close()
        if status == "ok":
            return payload
        raise payload

    def close(self) -> int | None:
        """Wait for the child (after its answer, or when giving up on it); its exit status."""
        if not self._answers.closed:
            self._answers.close()
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        return reap(pid)
