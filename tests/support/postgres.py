"""A throw-away PostgreSQL server for the tests: Debian's binaries, a cluster in a temporary
directory, a free port on 127.0.0.1, trust authentication, stopped when the tests end.

``scripts/install.sh --browser`` (``make test``) installs Debian's ``postgresql``. PostgreSQL
refuses to run as root, so as root the cluster is owned by and run as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL のサーバーが見つかりません。`make test`（scripts/install.sh --browser）で入ります / "
            "no PostgreSQL server binaries: `make test` installs Debian's postgresql"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="kasuhara-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.root)

    def start(self) -> PostgresServer:
        self.sock.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        r = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--no-locale", "--no-sync")  # fmt: skip
        if r.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {r.stderr.strip()}")
        self.opts = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        r = self._run(
            "pg_ctl", "-D", str(self.data), "-o", self.opts, "-l", str(self.root / "log"), "-w", "start"
        )
        if r.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {r.stderr.strip()} {log[-2000:]}")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Stop and start the server (its log to the file, not to our pipe, or this waits forever)."""
        r = self._run("pg_ctl", "-D", str(self.data), "-o", self.opts, "-l", str(self.root / "log"), "-m", "fast",
                      "-w", "restart")  # fmt: skip
        if r.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl restart failed: {r.stderr.strip()}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
