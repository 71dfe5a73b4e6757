"""Unattended runs: `campaigns run-due` killed mid-send resumes as a manual send does; the
worker stops between batches when told to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SAMPLE_ARTICLE, import_people, run_cli, sendgrid_env
from tests.delivery.helpers import soon, wait_until
from tests.fakes import sendgrid as fake_sendgrid


def newsletter(project: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args],
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def schedule(project: Path, env: dict[str, str], readers: int) -> str:
    import_people(project, [f"reader{n}@example.org,Reader {n},en" for n in range(readers)])
    at = soon(6)  # time for `send` to plan and render both editions on a loaded machine
    scheduled = run_cli("send", str(SAMPLE_ARTICLE), "--at", at, "--yes", cwd=project, env=env)
    assert scheduled.returncode == 0, scheduled.stderr
    wait_until(at)
    return json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)[0]["id"]


def test_run_due_killed_mid_request_resumes_and_only_that_batch_is_uncertain(
    project: Path,
) -> None:
    with fake_sendgrid.running(
        decide=lambda n: "slow" if n == 3 else "ok", slow_seconds=60
    ) as fake:
        env = sendgrid_env(fake.url)
        campaign = schedule(project, env, 5000)
        first = newsletter(project, env, "campaigns", "run-due")
        wait_for(lambda: len(fake.accepted) == 3 or first.poll() is not None, "no third batch")
        assert len(fake.accepted) == 3
        os.kill(first.pid, signal.SIGKILL)  # while SendGrid "thinks" about batch 3
        first.communicate(timeout=30)
        second = run_cli("campaigns", "run-due", cwd=project, env=env)
        assert second.returncode == 0, second.stderr
        received = fake.recipients()
    in_flight = {to["email"] for p in fake.accepted[2]["personalizations"] for to in p["to"]}
    report = json.loads(run_cli("campaigns", "show", campaign, "--json", cwd=project).stdout)
    uncertain = {r["email"] for r in report["recipients"] if r["state"] == "uncertain"}
    assert uncertain == in_flight and len(in_flight) == 1000
    assert report["counts"]["sent"] == 4000 and report["counts"]["pending"] == 0
    assert report["status"] == "finished"
    assert len(received) == 5000 and set(received.values()) == {1}
    assert all("send_at" not in p for body in fake.accepted for p in body["personalizations"])


def test_the_worker_stops_between_batches_and_run_due_continues(project: Path) -> None:
    with fake_sendgrid.running(decide=lambda n: "slow", slow_seconds=1.0) as fake:
        env = sendgrid_env(fake.url)
        campaign = schedule(project, env, 3000)
        worker = newsletter(project, env, "worker", "--interval", "1")
        wait_for(lambda: fake.requests >= 1, "the worker sent nothing")
        worker.send_signal(signal.SIGTERM)  # mid-request: that batch still completes
        out, errors = worker.communicate(timeout=60)
        assert worker.returncode == 0, errors
        assert "stopping after the current batch" in errors and "stopped between batches" in out
        report = json.loads(run_cli("campaigns", "show", campaign, "--json", cwd=project).stdout)
        assert report["counts"]["uncertain"] == 0 and report["counts"]["pending"] > 0
        assert report["status"] == "running"
        rest = run_cli("campaigns", "run-due", cwd=project, env=env)
        assert rest.returncode == 0, rest.stderr
        received = fake.recipients()
    assert len(received) == 3000 and set(received.values()) == {1}
