"""Several `streamlit run dashboard.py` replicas behind nginx with sticky sessions, started and stopped together.

    python -m deploy.replicas --replicas 2 --port 8501     # until Ctrl-C; then every process it started ends

Each replica listens on its own loopback port; nginx (Debian's, /usr/sbin/nginx) listens on ``--port`` and
keeps each client on one replica (a hash of the client's address: a Streamlit session lives on one
websocket, in one replica's memory). The nginx configuration is written from deploy/nginx.conf.j2 into a
temporary directory with its logs; the access log names the replica that served each request.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

import jinja2

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.j2")
LOOPBACK = "127.0.0.1"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def nginx_config(listen: str, replicas: Sequence[str], run_dir: Path) -> str:
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.from_string(TEMPLATE.read_text()).render(listen=listen, replicas=replicas, run_dir=run_dir)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def running_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that have not ended (zombies waiting to be reaped have)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, …
        except (OSError, IndexError):
            continue  # it ended while being read
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def end_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End a process started in its own session (``start_new_session=True``) and everything it started (a
    server's training workers): SIGTERM to its process group, then SIGKILL to whatever of the group is still
    running after ``timeout`` seconds — a child that outlives its parent included."""
    group = process.pid
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if process.poll() is not None and not running_in_group(group):
            break
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (process.poll() is None or running_in_group(group)):
            time.sleep(0.05)
    process.wait()


class Replicas:
    """``count`` replicas and nginx in front of them; a context manager that stops them all."""

    def __init__(self, count: int = 2, port: int | None = None, env: dict[str, str] | None = None,
                 start_timeout: float = 120.0) -> None:
        self.count, self.port = count, port
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        self.replica_ports: list[int] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="fitcore-replicas-")
        self.run_dir = Path(self._dir.name)

    @property
    def access_log(self) -> Path:
        return self.run_dir / "access.log"

    def start(self) -> Replicas:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install -y nginx)")
        self.port = self.port or free_port()
        self.replica_ports = [free_port() for _ in range(self.count)]
        env = os.environ | {"PYTHONUNBUFFERED": "1"} | self.env
        try:
            for index, port in enumerate(self.replica_ports):
                log = open(self.run_dir / f"replica-{index}.log", "wb")
                command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                           "--server.address", LOOPBACK, "--server.port", str(port),
                           "--browser.gatherUsageStats", "false"]
                self.processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                       stdin=subprocess.DEVNULL, start_new_session=True))
                log.close()
            os.chmod(self.run_dir, 0o777)  # nginx's workers (user nobody when started as root) write temp files here
            config = self.run_dir / "nginx.conf"
            config.write_text(nginx_config(f"{LOOPBACK}:{self.port}", [f"{LOOPBACK}:{p}" for p in self.replica_ports],
                                           self.run_dir))
            self.nginx = subprocess.Popen([binary, "-p", str(self.run_dir), "-e", str(self.run_dir / "error.log"),
                                           "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        waiting = [*self.replica_ports, self.port]
        while waiting and time.monotonic() < deadline:
            for process in [*self.processes, self.nginx]:
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"a process exited with code {process.returncode}: {self.logs()}")
            waiting = [port for port in waiting if not _healthy(port)]
            time.sleep(0.2)
        if waiting:
            raise TimeoutError(f"ports {waiting} did not answer /_stcore/health: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}"
                         for path in sorted(self.run_dir.glob("*.log")))

    def sessions(self) -> list[tuple[str, str]]:
        """(client address, replica address) of every websocket nginx has logged (it logs one when it closes)."""
        if not self.access_log.exists():
            return []
        found = []
        for line in self.access_log.read_text().splitlines():
            client, upstream, *_ = line.split(" ")
            if "/_stcore/stream" in line:
                found.append((client, upstream))
        return found

    def stop(self) -> None:
        if self.nginx is not None:
            end_process(self.nginx)
            self.nginx = None
        for process in self.processes:
            end_process(process)
        self.processes = []

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> Replicas:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="streamlit processes (default 2)")
    parser.add_argument("--port", type=int, default=8501, help="nginx's port on 127.0.0.1 (default 8501)")
    args = parser.parse_args(argv)
    with Replicas(args.replicas, args.port) as replicas:
        print(f"http://{LOOPBACK}:{replicas.port} -> replicas on ports {replicas.replica_ports}; "
              f"logs in {replicas.run_dir}; Ctrl-C stops them all", flush=True)
        try:
            while all(p.poll() is None for p in [*replicas.processes, replicas.nginx] if p is not None):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
