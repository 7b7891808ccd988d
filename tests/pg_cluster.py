"""A throwaway PostgreSQL cluster on loopback for the tests: initdb + pg_ctl in a temp dir.

    cluster = PgCluster.start()          # raises PgUnavailable when no server binaries exist
    url = cluster.create_database()      # a fresh database, SQLAlchemy URL (psycopg 3)
    cluster.drop_database(url)
    cluster.stop()

PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
system user (Debian's package creates it), else `nobody`, via `runuser -u`.
Durability is switched off: the data is thrown away after the session.
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .loopback import free_port

# fsync and friends off: a test cluster never needs to survive a crash, and it halves the time.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or they would not start)."""


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl live: $PG_BINDIR, Debian's /usr/lib/postgresql/N/bin (newest), or PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _server_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PgUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PgCluster:
    """A running throwaway cluster; superuser `postgres`, trust auth, loopback only."""

    bindir: Path
    root: Path
    port: int
    user: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> "PgCluster":
        """initdb and start a cluster in a new temp dir; PgUnavailable if it cannot."""
        bindir = find_bindir()
        if bindir is None:
            raise PgUnavailable("no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql")
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="webview-pg-"))
        cluster = cls(bindir, root, free_port(), user)
        if user:
            info = pwd.getpwnam(user)
            os.chown(root, info.pw_uid, info.pw_gid)
        try:
            cluster._run("initdb", "-D", str(cluster.datadir), "-U", "postgres", "--auth=trust",
                         "--encoding=UTF8", "--locale=C", "--no-sync")
            with open(cluster.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
                for name, value in {**SERVER_SETTINGS, "port": str(cluster.port),
                                    "unix_socket_directories": f"'{root}'"}.items():
                    conf.write(f"{name} = {value}\n")
            cluster._run("pg_ctl", "-D", str(cluster.datadir), "-l", str(root / "server.log"), "-w", "-t", "30", "start")
        except (subprocess.CalledProcessError, OSError) as exc:
            log = cluster.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            cluster.stop()
            raise PgUnavailable(f"the test cluster would not start: {exc}\n{tail}") from None
        return cluster

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root, timeout=120)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database in this cluster (over TCP on loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self):
        import psycopg
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                               autocommit=True, connect_timeout=10)

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = "t_" + secrets.token_hex(6)
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, closing any connection still open on it."""
        name = url.rsplit("/", 1)[1]
        if not name.startswith("t_") or not name[2:].isalnum():
            raise ValueError(f"not a test database: {name!r}")
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        if (self.datadir / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
            except (subprocess.CalledProcessError, OSError):
                pass  # the directory goes anyway; a stray server dies with its data dir's lock
        shutil.rmtree(self.root, ignore_errors=True)
