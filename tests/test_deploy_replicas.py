"""Scale-out: two `streamlit run` replicas behind nginx (deploy/replicas.py) with sticky sessions. Simulated
attendees, each from its own loopback address, open a demo through nginx and train: every one gets a
training page, the sessions spread over both replicas, and each attendee stays on one replica. The hash
places a given address the same way on every start (127.0.0.2 … 127.0.0.5 split two and two), so the
spread is no matter of luck."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from benchmarks.workshop import broken, simulate, source_address
from deploy.replicas import Replicas, end_process, nginx_binary, nginx_config

ATTENDEES = 4


def test_that_the_nginx_configuration_hashes_the_whole_client_address_and_passes_websockets(tmp_path) -> None:
    config = nginx_config("127.0.0.1:8501", ["127.0.0.1:9001", "127.0.0.1:9002"], tmp_path)
    directives = [line.strip() for line in config.splitlines() if not line.lstrip().startswith("#")]
    assert "hash $remote_addr;" in directives and "ip_hash;" not in directives
    assert config.count("server 127.0.0.1:900") == 2
    for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;", "proxy_read_timeout 86400s;"):
        assert line in config


def test_that_attendees_through_nginx_spread_over_the_replicas_and_each_stays_on_one() -> None:
    if nginx_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing under CI (.ci/run installs it: apt-get install -y nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    with Replicas(2) as replicas:
        attendees, _, _ = simulate(replicas.port, ATTENDEES, spread=1.0, settle=2.0, window=120.0,
                                   leave_after_progress=2)
        assert not broken(attendees), (broken(attendees), replicas.logs())
        served: dict[str, set[str]] = defaultdict(set)
        for _ in range(50):  # nginx logs a websocket when it closes
            served = defaultdict(set)
            for client, replica in replicas.sessions():
                served[client].add(replica)
            if len(served) >= ATTENDEES:
                break
            time.sleep(0.1)
    assert set(served) == {source_address(a.number) for a in attendees}
    assert all(len(replica) == 1 for replica in served.values()), served
    assert len(set().union(*served.values())) == 2, f"every session went to one replica: {served}"


# A parent that starts a child which ignores SIGTERM, prints the child's pid, and waits.
STUBBORN_FAMILY = ("import signal, subprocess, sys, time; "
                   "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(600)'], "
                   "stdout=subprocess.PIPE); child.stdout.readline(); print(child.pid, flush=True); time.sleep(600)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended; only its parent's wait is missing
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_that_end_process_ends_a_process_and_everything_it_started_even_what_ignores_sigterm() -> None:
    parent = subprocess.Popen([sys.executable, "-c", STUBBORN_FAMILY], stdout=subprocess.PIPE,
                              start_new_session=True)
    child = int(parent.stdout.readline())
    end_process(parent, timeout=0.5)
    parent.stdout.close()
    assert parent.returncode is not None
    for _ in range(100):  # the orphaned child is reaped by init, not by us
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def test_that_end_process_accepts_a_process_that_has_already_ended() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    done.wait()
    end_process(done)
    assert done.returncode == 0
