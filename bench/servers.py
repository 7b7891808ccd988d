"""What the bench scripts share: gunicorn and the sandbox as subprocesses on loopback, a throwaway PostgreSQL."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
BENCH_MID = "bench0001m"
# The shopper the benchmarks play (rotate_paths.lua sends the same one to wrk).
KAKAOTALK_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 KAKAOTALK 10.6.5")
# The order every benchmark creates (POST /api/orders).
BENCH_ORDER = {"goodsNm": "무선 이어폰", "goodsAmt": 39000, "ordNm": "홍길동", "ordTel": "01012345678"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Poll url until it answers 200; RuntimeError if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url} answered")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], health_url: str, log: Path) -> Iterator[subprocess.Popen]:
    """Start a server process in its own session, wait for health_url, stop it (SIGTERM) afterwards."""
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT, start_new_session=True)
    try:
        wait_until_up(health_url, process)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# The service's own gunicorn settings (gthread workers), as README's gunicorn command uses them.
SERVICE_CONF = "python:webview_toolkit.web.gunicorn_conf"


def gunicorn(app_spec: str, port: int, *, workers: int = 2, threads: int = 1, conf: str | None = None) -> list[str]:
    """The gunicorn command line for an app factory on 127.0.0.1:port (with a config module, if given).

    The project's root and bench/ are on the workers' path, as for the bench scripts themselves.
    """
    command = [str(VENV_BIN / "gunicorn")] + (["-c", conf] if conf else []) + [
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
        "--log-level", "warning"]
    if threads > 1:
        command += ["--threads", str(threads)]
    return command + [app_spec]


@contextlib.contextmanager
def postgresql() -> Iterator[object | None]:
    """A throwaway PostgreSQL cluster (tests/pg_cluster.py), or None when the server binaries are missing."""
    sys.path.insert(0, str(ROOT))
    from tests.pg_cluster import PgCluster, PgUnavailable

    try:
        cluster = PgCluster.start()
    except PgUnavailable as exc:
        print(f"PostgreSQL: skipped ({exc})")
        yield None
        return
    try:
        yield cluster
    finally:
        cluster.stop()


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) a process and its descendants used so far, reaped ones included."""
    ticks, children = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        # After the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14), in clock ticks.
        ticks[pid] = sum(int(value) for value in fields[11:15])
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def machine(speed_us: float | None = None) -> str:
    """nproc, CPU model, Python version, load average and the machine's speed now, for the figures' caption.

    The speed is bare_app's request called in this process (`reference_us`), sampled once: it
    says what class of machine ran the figures. On this project's virtual machine it moved
    between about 45 and 80 µs within minutes, and the same code gave 90 to 164 checkouts/s.
    `speed_us`: that figure, when the caller has just measured it (bench/profile_checkout.py).
    """
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    speed = reference_us() if speed_us is None else speed_us
    return (f"nproc {len(os.sched_getaffinity(0))} ({model}), Python {sys.version.split()[0]}, load average before the "
            f"run {load}, a bare Flask request in-process {speed:.1f} µs (the machine's speed now)")


def per_request_us(app, environ: dict, requests: int, rounds: int = 3) -> float:
    """The best of `rounds` timings of `requests` WSGI calls, in CPU µs per request."""
    def call() -> None:
        b"".join(app(dict(environ), lambda status, headers, exc_info=None: None))

    for _ in range(200):
        call()  # warm-up: imports, caches, the kept connection
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(requests):
            call()
        best = min(best, (time.thread_time() - start) / requests * 1e6)
    return best


def reference_us(requests: int = 2000) -> float:
    """CPU µs of one request to bench/bare_app.py's endpoint, called in this process (no server, no socket)."""
    from werkzeug.test import EnvironBuilder

    import bare_app

    environ = EnvironBuilder(path="/bare/x", base_url="http://127.0.0.1:8000").get_environ()
    return per_request_us(bare_app.create_app().wsgi_app, environ, requests)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder for one benchmark's servers; their *.log tails are printed if the run fails."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    except Exception:
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name} (last lines)\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
