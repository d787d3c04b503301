"""A throwaway PostgreSQL server for the tests of the update store: Debian's `postgresql`
binaries start a cluster in a temporary folder, listening only on a unix socket there, once per
test session. As root the server runs as the `postgres` user (it refuses to run as root).

When PostgreSQL is not installed the tests that need it are skipped with a sentence saying how
to install it (`make test` does, as root); under CI=true they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where its socket is, and how to reach a database on it."""

    socket_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"create database {name}")
        engine.dispose()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = sa.make_url(url).database
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"drop database if exists {name} with (force)")
        engine.dispose()


def postgres_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's, else whatever is on the PATH."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " Under CI a skipped PostgreSQL test counts as a failure.")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> list[str]:
    """The command prefix that runs the server as a user it accepts (never root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    return []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session, stopped and removed at its end."""
    binaries = postgres_binaries()
    if binaries is None:
        _unavailable(
            "PostgreSQL is not installed (no initdb and pg_ctl): the PostgreSQL tests need "
            "Debian's postgresql package; `make test` installs it when run as root."
        )
        raise AssertionError  # unreachable: skip or fail raised
    base = Path(tempfile.mkdtemp(prefix="crimeprev-pg-"))
    prefix = _server_user()
    if prefix:
        account = pwd.getpwnam(prefix[2])
        os.chown(base, account.pw_uid, account.pw_gid)
    data = base / "data"
    port = _free_port()
    initdb = [
        *prefix,
        str(binaries / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-sync",
    ]
    result = subprocess.run(initdb, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"PostgreSQL's initdb failed here: {result.stderr.strip()[-300:]}")
    options = f"-p {port} -k {base} -c listen_addresses=''"
    pg_ctl = [*prefix, str(binaries / "pg_ctl"), "-D", str(data)]
    started = subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(base / "server.log"), "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        log = (base / "server.log").read_text(errors="replace")[-500:]
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"The PostgreSQL server did not start: {started.stderr.strip()} {log}")
    try:
        yield PostgresServer(socket_dir=base, port=port)
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store's address: an SQLite file, then a database on the test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'updates.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)
