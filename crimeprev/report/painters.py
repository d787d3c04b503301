"""Vega-Lite to PNG in worker processes, so a deck's charts are drawn side by side.

vl-convert holds the interpreter lock while it draws, so threads cannot share the work; nor
can `multiprocessing`, whose children re-import the parent's main module (the whole dashboard
under a server) and which cannot fork a process whose vl-convert runtime already runs a thread.
A painter is a plain `python -c` child that imports vl-convert alone and answers one request
at a time over its pipes. Painters start on the first batch worth sharing, are kept for the
next one, and stop after a quiet spell, so an idle server holds none of their memory (about
90 MB each).
"""

from __future__ import annotations

import atexit
import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

MAX_PAINTERS = 4
IDLE_SECONDS = 120.0
HEADER = struct.Struct(">cI")

PAINTER = r"""
import json, struct, sys
import vl_convert as vlc
source, sink, header = sys.stdin.buffer, sys.stdout.buffer, struct.Struct(">cI")
while True:
    size = source.read(4)
    if len(size) < 4:
        break
    request = json.loads(source.read(struct.unpack(">I", size)[0]))
    try:
        kind, body = b"P", vlc.vegalite_to_png(request["spec"], scale=request["scale"])
    except Exception as error:
        kind, body = b"E", str(error).encode("utf-8")
    sink.write(header.pack(kind, len(body)) + body)
    sink.flush()
"""


class PainterError(RuntimeError):
    """vl-convert could not draw a specification, or a painter stopped."""


class _Painter:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PAINTER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def draw(self, spec_json: str, scale: float) -> bytes:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        request = f'{{"spec": {spec_json}, "scale": {json.dumps(scale)}}}'.encode()
        try:
            stdin.write(struct.pack(">I", len(request)) + request)
            stdin.flush()
            kind, size = HEADER.unpack(stdout.read(HEADER.size))
        except (OSError, struct.error) as error:
            raise PainterError("a chart-drawing process stopped") from error
        body = stdout.read(size)
        if kind != b"P":
            raise PainterError(body.decode("utf-8", "replace"))
        return body

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Painters:
    """The painters of this process, shared by every session and stopped when idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Painter] = []
        self._timer: threading.Timer | None = None

    def _take(self) -> _Painter:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return self._idle.pop() if self._idle else _Painter()

    def _give_back(self, painter: _Painter) -> None:
        with self._lock:
            self._idle.append(painter)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(IDLE_SECONDS, self.close)
            self._timer.daemon = True
            self._timer.start()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for painter in idle:
            painter.close()

    def draw_all(
        self,
        specs: Sequence[str],
        scale: float,
        done: Callable[[int, bytes], None],
        workers: int,
    ) -> None:
        """Draw every specification (JSON text); `done(index, png)` hears of each as it ends."""

        def one(index: int) -> tuple[int, bytes]:
            painter = self._take()
            try:
                png = painter.draw(specs[index], scale)
            except PainterError:
                painter.close()
                raise
            self._give_back(painter)
            return index, png

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="painter") as pool:
            for future in as_completed([pool.submit(one, i) for i in range(len(specs))]):
                done(*future.result())


PAINTERS = _Painters()
atexit.register(PAINTERS.close)


def painters_for(count: int) -> int:
    """How many painters a batch of `count` charts gets: one per core, at most four."""
    return max(1, min(count, os.cpu_count() or 1, MAX_PAINTERS))
