"""Serve the dashboard from several processes behind nginx: the way to grow past one process.

    python -m deploy.serve --workers 4 [--port 8501] [--host 127.0.0.1]   # `make serve`

One Python process serves every session of a `streamlit run`, and the CPU-bound part of a page
(pandas, Altair, the tests) runs under one interpreter lock. This starts `--workers` processes
(`python -m ui.serve`, warm), each on its own loopback port, and Debian's nginx in front of them
with sticky sessions (see deploy/nginx.conf.template), websockets proxied.

- The monthly tables are brought up to date once, here, before the workers start; the workers
  run with `CRIMEPREV_READ_ONLY=1` and never write to the data folder.
- The workers listen on 127.0.0.1 only. nginx listens on 127.0.0.1 too, unless sign-in is
  configured (an `[auth]` section in .streamlit/secrets.toml): only then may `--host` name an
  address other machines can reach.
- It runs in the foreground until stopped (Ctrl-C or SIGTERM), then stops nginx and the workers;
  if any of them stops by itself, the rest are stopped too and the exit code says so.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
SECRETS = (ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
HEALTH_TIMEOUT_S = 300


class ServeError(Exception):
    """Something that stops the dashboard from being served, in one sentence."""


def nginx_binary() -> str | None:
    """Debian's nginx, when it is installed (`make nginx`)."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def sign_in_configured(secrets: tuple[Path, ...] = SECRETS) -> bool:
    """Whether Streamlit's sign-in is set up: an `[auth]` section in a secrets.toml it reads."""
    for path in secrets:
        if path.is_file():
            try:
                if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                    return True
            except (OSError, tomllib.TOMLDecodeError):
                continue
    return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen_address(host: str, port: int, signed_in: bool) -> str:
    """nginx's `listen` value; an address beyond this machine only when sign-in is set up."""
    if not is_loopback(host) and not signed_in:
        raise ServeError(
            f"Refusing to listen on {host}: without sign-in the dashboard stays on this machine "
            "(127.0.0.1). Add an [auth] section to .streamlit/secrets.toml first, or serve on "
            "127.0.0.1 behind your own proxy."
        )
    if ":" in host.strip("[]"):
        return f"[{host.strip('[]')}]:{port}"
    return f"{host}:{port}"


def nginx_config(run_dir: Path, listen: str, worker_ports: list[int]) -> str:
    """The configuration nginx runs with, from deploy/nginx.conf.template."""
    upstreams = "\n".join(f"        server 127.0.0.1:{port};" for port in worker_ports)
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("@RUN@", str(run_dir))
        .replace("@LISTEN@", listen)
        .replace("@UPSTREAMS@", upstreams)
    )


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def prepare_data(root: Path) -> None:
    """Bring the monthly tables up to date once, so the read-only workers find them so."""
    from crimeprev.aggregate import open_database
    from crimeprev.db import DataUnreadable
    from crimeprev.store import has_records

    if not has_records(root):
        raise ServeError(
            f"There are no records in {root}: write the demo extract with `crimeprev demo` "
            "(`make serve` does so for an empty data folder) or import some first."
        )
    try:
        open_database(root)
    except DataUnreadable as error:
        raise ServeError(str(error)) from error


def worker_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ui.serve",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        # Nothing is edited under a running service, and N watchers would each poll the tree.
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]


class Service:
    """The workers and nginx, started and stopped together."""

    def __init__(self, root: Path, workers: int, listen: str, run_dir: Path) -> None:
        self.root, self.workers, self.listen, self.run_dir = root, workers, listen, run_dir
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, nginx: str) -> None:
        ports = _free_ports(self.workers)
        environment = os.environ | {
            "CRIMEPREV_DATA_DIR": str(self.root),
            "CRIMEPREV_READ_ONLY": "1",
        }
        for number, port in enumerate(ports, start=1):
            log = (self.run_dir / f"worker-{number}.log").open("w")
            process = subprocess.Popen(
                worker_command(port), cwd=ROOT, env=environment, stdout=log, stderr=log
            )
            self.processes.append((f"worker {number} (127.0.0.1:{port})", process))
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        for (name, process), port in zip(self.processes, ports, strict=True):
            while not _healthy(f"http://127.0.0.1:{port}/_stcore/health"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ServeError(f"{name} did not start; see {self.run_dir}/worker-*.log")
                time.sleep(0.2)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(nginx_config(self.run_dir, self.listen, ports), encoding="utf-8")
        checked = subprocess.run(
            [nginx, "-t", "-q", "-p", str(self.run_dir), "-c", str(conf)],
            capture_output=True,
            text=True,
        )
        if checked.returncode != 0:
            raise ServeError(f"nginx refused its configuration: {checked.stderr.strip()}")
        nginx_process = subprocess.Popen(
            [nginx, "-p", str(self.run_dir), "-c", str(conf), "-g", "daemon off;"]
        )
        self.processes.append(("nginx", nginx_process))

    def wait(self) -> str:
        """Block until one of the processes stops; its name."""
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    return name
            time.sleep(0.5)

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="Streamlit processes (4)")
    parser.add_argument("--port", type=int, default=8501, help="the port nginx listens on")
    parser.add_argument("--host", default="127.0.0.1", help="the address nginx listens on")
    parser.add_argument("--run-dir", type=Path, help="nginx's configuration, logs and pid")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from crimeprev.store import data_dir

    service: Service | None = None
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        if args.workers < 1:
            raise ServeError("--workers must be 1 or more.")
        nginx = nginx_binary()
        if nginx is None:
            raise ServeError(
                "nginx is not installed: `make nginx` installs Debian's package (as root), "
                "or install it with your system's package manager."
            )
        listen = listen_address(args.host, args.port, sign_in_configured())
        root = data_dir()
        prepare_data(root)
        run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="crimeprev-serve-"))
        run_dir.mkdir(parents=True, exist_ok=True)
        service = Service(root, args.workers, listen, run_dir)
        service.start(nginx)
        print(
            f"Serving {root} at http://{listen}/ from {args.workers} processes behind nginx "
            f"(logs in {run_dir}). Ctrl-C stops them.",
            flush=True,
        )
        stopped = service.wait()
        print(f"{stopped} stopped; stopping the rest.", file=sys.stderr)
        return 1
    except ServeError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        if service is not None:
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
