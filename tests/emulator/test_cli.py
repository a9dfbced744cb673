"""``python -m airflow_provider_koreai.emulator`` as a real process: banner, serving, clean stop by signal."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_koreai.emulator import EmulatorSettings
from tests.helpers.kore_api import mint_token

BANNER = re.compile(r"^Kore\.ai emulator listening on (http://127\.0\.0\.1:(\d+))$")


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))


@pytest.fixture
def cli() -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    cmd = [sys.executable, "-m", "airflow_provider_koreai.emulator", "--port", "0", "--ingestion-delay", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serves_and_stops_cleanly(cli: tuple[subprocess.Popen[str], queue.Queue[str]], sig: int) -> None:
    proc, lines = cli
    first = lines.get(timeout=20)
    match = BANNER.match(first)
    assert match, first
    base_url, port = match.group(1), int(match.group(2))
    assert port > 0
    banner = [lines.get(timeout=5) for _ in range(5)]
    conn_line = banner[-1]
    assert conn_line.startswith("AIRFLOW_CONN_KOREAI_DEFAULT='")
    conn = json.loads(conn_line.split("=", 1)[1].strip("'"))
    defaults = EmulatorSettings()
    assert conn == {
        "conn_type": "koreai",
        "host": base_url,
        "login": defaults.client_id,
        "password": defaults.client_secret,
        "extra": {
            "iid": defaults.iid,
            "account_id": defaults.account_id,
            "rate_limit_per_minute": defaults.rate_limit_per_minute,
        },
    }
    assert len(defaults.client_secret) >= 32
    assert re.fullmatch(r"[0-9a-f]{24}", defaults.account_id)

    headers = {"auth": mint_token(defaults), "iid": defaults.iid, "accountId": defaults.account_id}
    url = f"{base_url}/agentassist/api/v1/public/{defaults.iid}/campaign/contactList/getAllListDetails"
    r = requests.post(url, headers=headers, timeout=5)
    assert r.status_code == 200
    assert len(r.json()["data"]) == 4

    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, headers=headers, timeout=2)


def test_cli_no_seed_and_custom_credentials() -> None:
    cmd = [
        sys.executable,
        "-m",
        "airflow_provider_koreai.emulator",
        "--port",
        "0",
        "--no-seed",
        "--client-id",
        "cs-custom",
        "--client-secret",
        "custom-secret-that-is-at-least-32-characters",
        "--iid",
        "st-custom",
        "--account-id",
        "aaaaaaaaaaaaaaaaaaaaaaaa",
        "--rate-limit",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        match = BANNER.match(lines.get(timeout=20))
        assert match
        settings = EmulatorSettings(
            client_id="cs-custom",
            client_secret="custom-secret-that-is-at-least-32-characters",
            iid="st-custom",
            account_id="aaaaaaaaaaaaaaaaaaaaaaaa",
        )
        headers = {"auth": mint_token(settings), "iid": settings.iid, "accountId": settings.account_id}
        url = f"{match.group(1)}/agentassist/api/v1/public/st-custom/campaign/contactList/getAllListDetails"
        r = requests.post(url, headers=headers, timeout=5)
        assert r.status_code == 200
        assert r.json()["data"] == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_campaign_flags() -> None:
    """``--campaign-preparation 0``: a voice campaign is Ready at once; ``--dial-rate 0``: it never dials."""
    cmd = [
        sys.executable,
        "-m",
        "airflow_provider_koreai.emulator",
        "--port",
        "0",
        "--rate-limit",
        "0",
        "--dial-rate",
        "0",
        "--campaign-preparation",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        match = BANNER.match(lines.get(timeout=20))
        assert match
        settings = EmulatorSettings()
        base = f"{match.group(1)}/agentassist/api/v1/public/{settings.iid}/campaign"

        def headers() -> dict[str, str]:
            return {"auth": mint_token(settings), "iid": settings.iid, "accountId": settings.account_id}

        r = requests.get(f"{base}/cd-demo-renewals", headers=headers(), timeout=5)
        spec = {k: r.json()["data"][k] for k in ("description", "priority", "dialingMode", "dialingStrategy")}
        spec.update(name="Flags", contactLists=["Overdue Invoices"], experienceFlowName="Flow")
        created = requests.post(f"{base}?campaignType=voice", json=spec, headers=headers(), timeout=5)
        assert created.json()["data"]["status"] == "Ready", created.text
        campaign_id = created.json()["data"]["_id"]
        trigger = f"{match.group(1)}/campaign/api/v1/public/{settings.iid}/campaign/{campaign_id}"
        started = requests.post(
            f"{trigger}?campaignType=voice&trigger=play", json={}, headers=headers(), timeout=5
        )
        assert started.status_code == 200, started.text
        time.sleep(0.3)  # not a timed assertion: with --dial-rate 0 nothing is ever dialled
        status = requests.post(f"{base}/{campaign_id}/status", json={}, headers=headers(), timeout=5)
        assert status.json()["data"]["status"] == "Active"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize("flag", ["--dial-rate", "--campaign-preparation"])
@pytest.mark.parametrize("value", ["-1", "fast"])
def test_cli_refuses_bad_campaign_flags(flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_koreai.emulator.__main__ import parse_args

    with pytest.raises(SystemExit):
        parse_args([flag, value])
    assert flag in capsys.readouterr().err
