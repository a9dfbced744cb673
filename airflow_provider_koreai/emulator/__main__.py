"""``python -m airflow_provider_koreai.emulator``: the emulator as a foreground process for demos.

It binds first (so ``--port 0`` can report the real port), prints the URL and the credentials it accepts,
including a ready-to-export Airflow connection, then serves until SIGINT or SIGTERM and exits with 0 on
both: a demo script or test harness stopping it by PID should not see a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

import uvicorn

from airflow_provider_koreai.emulator.app import create_app
from airflow_provider_koreai.emulator.server import bind_socket, uvicorn_config
from airflow_provider_koreai.emulator.settings import EmulatorSettings


class _ForegroundServer(uvicorn.Server):
    """uvicorn's server minus re-raising the stop signal after shutdown (which would exit non-zero)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        stop_signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._request_exit) for sig in stop_signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _request_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = EmulatorSettings()
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_koreai.emulator",
        description="Local emulator of the Kore.ai Contact Center Campaign Management API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default: %(default)s)")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--iid", default=defaults.iid)
    parser.add_argument("--account-id", default=defaults.account_id)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=defaults.rate_limit_per_minute,
        help="requests per minute per account, 0 disables (default: %(default)s)",
    )
    parser.add_argument(
        "--ingestion-delay",
        type=float,
        default=defaults.ingestion_delay_seconds,
        help="seconds before added contacts appear (default: %(default)s)",
    )
    parser.add_argument(
        "--dial-rate",
        type=_non_negative,
        default=defaults.dial_rate,
        help="contacts per second a running campaign dials, 0 never dials (default: %(default)s)",
    )
    parser.add_argument(
        "--campaign-preparation",
        type=_non_negative,
        default=defaults.campaign_preparation_seconds,
        help="seconds a new voice campaign stays Preparing before it is Ready (default: %(default)s)",
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="start without the demo contact lists and campaign"
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = EmulatorSettings(
        client_id=args.client_id,
        client_secret=args.client_secret,
        iid=args.iid,
        account_id=args.account_id,
        rate_limit_per_minute=args.rate_limit,
        ingestion_delay_seconds=args.ingestion_delay,
        dial_rate=args.dial_rate,
        campaign_preparation_seconds=args.campaign_preparation,
        seed_demo_data=not args.no_seed,
    )
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}"
    connection = settings.airflow_connection(url)
    print(f"Kore.ai emulator listening on {url}")
    print(f"  client id:     {settings.client_id}")
    print(f"  client secret: {settings.client_secret}")
    print(f"  iid:           {settings.iid}")
    print(f"  account id:    {settings.account_id}")
    print(f"AIRFLOW_CONN_KOREAI_DEFAULT='{json.dumps(connection)}'", flush=True)
    server = _ForegroundServer(uvicorn_config(create_app(settings), args.log_level))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
