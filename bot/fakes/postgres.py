"""A real, throwaway PostgreSQL server for tests and benchmarks, on 127.0.0.1.

Debian's `postgresql` package (scripts/test installs it) provides initdb and pg_ctl;
this makes a new cluster in a temporary folder, starts it on a free port and removes
it at the end. PostgreSQL refuses to run as root, so when the tests run as root the
cluster belongs to the unprivileged `postgres` system user (the package creates it)
and every server command runs through `runuser`.

    with PostgresServer() as server:
        url = server.create_database()   # postgresql://adviser:…@127.0.0.1:port/test_1
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

SUPERUSER = "adviser"
PASSWORD = "adviser-test-password"  # noqa: S105 - a throwaway cluster on 127.0.0.1
SERVICE_USER = "postgres"  # who owns the cluster when the tests run as root


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries here, or the server would not start."""


def find_bin_dir() -> Path:
    configured = os.environ.get("ADVISER_POSTGRES_BIN")
    if configured:
        return Path(configured)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found: install Debian's postgresql package "
        "(bash scripts/test does) or set ADVISER_POSTGRES_BIN to the folder with pg_ctl"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, *, durable: bool = False) -> None:
        """`durable`: keep fsync and synchronous commits on (benchmarks measure what
        production does); tests turn them off, as a throwaway cluster may."""
        self.durable = durable
        self.bin_dir = find_bin_dir()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="adviser-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self.running = False

    # --- commands -------------------------------------------------------------------

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        if self._as_root:
            return ["runuser", "-u", SERVICE_USER, "--", *command]
        return command

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(  # noqa: S603 - our own binaries, fixed arguments
            self._command(program, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PostgresUnavailableError(
                f"{program} {' '.join(args[:2])} failed ({done.returncode}): "
                f"{done.stderr.strip()[-1000:]}\n{tail}"
            )

    def _own(self) -> None:
        """Hand the folder to the service user: the server will not run as root."""
        if not self._as_root:
            return
        try:
            account = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise PostgresUnavailableError(
                f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL "
                "as (Debian's postgresql package creates it)"
            ) from None
        os.chown(self.folder, account.pw_uid, account.pw_gid)

    def init(self) -> None:
        self._own()
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD)
        if self._as_root:
            account = pwd.getpwnam(SERVICE_USER)
            os.chown(password_file, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={password_file}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        durable = "on" if self.durable else "off"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "max_connections": "100",
            "shared_buffers": "32MB",
            "fsync": durable,
            "synchronous_commit": durable,
            "full_page_writes": durable,
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self.init()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        self.running = True
        return self

    def restart(self) -> None:
        """Stop (closing every connection, as a fail-over does) and start again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if self.running:
            self.running = False
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            finally:
                shutil.rmtree(self.folder, ignore_errors=True)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # --- databases ------------------------------------------------------------------

    def url(self, database: str = "postgres", *, user: str = SUPERUSER,
            password: str | None = PASSWORD) -> str:  # fmt: skip
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement.encode())

    def create_database(self) -> str:
        """A new, empty database; return its URL."""
        name = f"test_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)
