"""What the benchmarks share: the machine's load, a process's CPU time and memory, and a
dashboard server started the way `make run` starts it (warm) or as plain `streamlit run`.

Every figure a benchmark prints comes with the load average and the CPU time behind it, because
on a shared machine a wall-clock time alone says as much about the neighbours as about the code.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
CHART = ".vega-embed canvas, .vega-embed svg"
TICKS = os.sysconf("SC_CLK_TCK")


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(v, 2) for v in os.getloadavg()]


def load_text() -> str:
    one, five, fifteen = load()
    return f"load {one} / {five} / {fifteen} on {os.cpu_count()} cores"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not answer its health check in {timeout:.0f} s")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    started: float  # time.perf_counter() when the process was started
    healthy_after: float  # seconds from the start to the first healthy answer


def server_command(warm: bool, port: int) -> list[str]:
    """`python -m ui.serve` (what `make run` uses) or plain `streamlit run app.py`."""
    options = [
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    if warm:
        return [sys.executable, "-m", "ui.serve", *options]
    return [sys.executable, "-m", "streamlit", "run", "app.py", *options]


@contextmanager
def dashboard(root: Path, log: Path, warm: bool = True, timeout: float = 300) -> Iterator[Server]:
    """A dashboard server on the data folder `root`, on a free loopback port."""
    port = free_port()
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            server_command(warm, port),
            cwd=ROOT,
            env=os.environ | {"CRIMEPREV_DATA_DIR": str(root)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process, timeout)
            yield Server(process, base, started, time.perf_counter() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
