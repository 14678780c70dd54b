"""Real services for integration tests: a throwaway PostgreSQL server and a Dagster webserver.

Both bind 127.0.0.1 on a free port, are started by the test that needs them and stopped at its
end, whatever happens in between. Use `running_postgres()` / `running_webserver()` as context
managers, or import the `postgres_server` fixture into a test module.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline_tests.support import FIXTURES

POSTGRES_MISSING = "PostgreSQL server binaries not installed (apt-get install -y postgresql)"
SMALL_QA = FIXTURES / "qa_small.jsonl"


def small_qa_data_dir(root: Path) -> Path:
    """A data directory holding 40 clean question/answer pairs: every check passes, both splits are non-empty."""
    jsonl = root / "raw" / "jsonl"
    jsonl.mkdir(parents=True)
    shutil.copy(SMALL_QA, jsonl / SMALL_QA.name)
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL (/usr/lib/postgresql/<major>/bin), else pg_ctl on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def instance_env(self) -> dict[str, str]:
        """The variables deploy/dagster-postgres.yaml reads the connection from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def connect(self):
        """A psycopg2 connection over TCP with the password, as a client on another host would."""
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
            connect_timeout=5,
        )


@contextlib.contextmanager
def running_postgres(database: str = "dagster", user: str = "dagster") -> Iterator[PostgresServer]:
    """initdb + pg_ctl start on 127.0.0.1 (password auth over TCP), a database, and a fast stop at the end.

    As root the server runs as the `postgres` user (initdb refuses root), in a fresh folder under
    the system temp directory that user can reach.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError(POSTGRES_MISSING)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="llm_pipeline_pg_"))
    data, password = root / "data", secrets.token_urlsafe(16)
    password_file = root / "password"
    password_file.write_text(password)
    if as_postgres:
        for path in (root, password_file):
            shutil.chown(path, "postgres")

    def run(*command: str) -> None:
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )

    port = free_port()
    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", user, f"--pwfile={password_file}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--no-sync")  # fmt: skip
        server_options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-o",
            server_options,
            "-w",
            "start",
        )
        started = True
        # Over the Unix socket (trust): over TCP createdb would wait for a password prompt.
        run(str(bin_dir / "createdb"), "-h", str(root), "-p", str(port), "-U", user, database)
        yield PostgresServer("127.0.0.1", port, user, password, database)
    finally:
        if started:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGINT to the whole group (webserver, code server, run workers), SIGKILL as a last resort."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextlib.contextmanager
def running_webserver(module: str, env: Mapping[str, str], log: Path, startup_timeout: float = 90) -> Iterator[str]:
    """`dagster-webserver` for `module` on 127.0.0.1 in its own process group; yields its base URL.

    The group is what gets signalled at the end: a webserver stopped alone leaves its code server
    and any run worker behind.
    """
    port = free_port()
    process = _start_dagster_command(["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-m", module], env, log)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base_url}/server_info", process, startup_timeout, log)
        yield base_url
    finally:
        stop_process_group(process)


@contextlib.contextmanager
def running_daemon(module: str, env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` for `module` (sensors, run queue) in its own process group.

    Stopping the group also stops the code server it starts and the runs it launched.
    """
    process = _start_dagster_command(["dagster-daemon", "run", "-m", module], env, log)
    try:
        yield process
    finally:
        stop_process_group(process)


def _start_dagster_command(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """A Dagster CLI of this interpreter's environment in a process group of its own, output to `log`."""
    executable = Path(sys.executable).with_name(command[0])
    with open(log, "wb") as output:
        return subprocess.Popen(
            [str(executable), *command[1:]],
            env={**os.environ, **env},
            cwd=env.get("DAGSTER_HOME"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
