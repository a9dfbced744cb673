"""Kore's gateway rules (reference section 2): JWT checks, tenant headers and the per-account rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings
from tests.helpers.emulator import Emulators
from tests.helpers.kore_api import Kore, assert_error, mint_token

RENEWALS = "cl-demo-renewals-due"
OTHER_SECRET = "a-different-but-long-enough-secret-0123456789"


def test_valid_token_without_jti_is_accepted_repeatedly(kore: Kore) -> None:
    token = mint_token(kore.settings, jti=None)
    for _ in range(2):
        assert kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(token)).status_code == 200


@pytest.mark.parametrize(
    ("make_token", "words"),
    [
        (lambda s: "", "Invalid SDK credentials"),
        (lambda s: "not-a-jwt", "Invalid JWT token"),
        (lambda s: mint_token(s, secret=OTHER_SECRET), "Invalid JWT token"),
        (lambda s: mint_token(s, app_id="cs-unknown-client"), "Invalid SDK credentials"),
        (lambda s: mint_token(s, ttl=-60, iat_offset=-120), "Invalid JWT token"),
        (lambda s: mint_token(s, iat_offset=600), "Invalid JWT token"),
        (lambda s: mint_token(s, ttl=3601), "3600"),
        (lambda s: mint_token(s, algorithm="HS384"), "Invalid JWT token"),
        (
            lambda s: jwt.encode({"appId": s.client_id, "exp": int(time.time()) + 60}, "", algorithm="none"),
            "Invalid JWT token",
        ),
        (lambda s: jwt.encode({"appId": s.client_id, "sub": "x"}, s.client_secret), "exp"),
        (lambda s: jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, s.client_secret), "appId"),
    ],
    ids=[
        "missing",
        "garbage",
        "wrong-secret",
        "unknown-appId",
        "expired",
        "iat-in-future",
        "jti-ttl-over-3600",
        "wrong-alg",
        "alg-none",
        "no-exp",
        "no-appId",
    ],
)
def test_bad_tokens_are_401_4002(
    kore: Kore, make_token: Callable[[EmulatorSettings], str], words: str
) -> None:
    token = make_token(kore.settings)
    headers = kore.headers(token) if token else kore.headers(auth=None)
    assert_error(kore.request("GET", kore.list_url(RENEWALS), headers=headers), 401, 4002, words)


def test_ttl_over_an_hour_is_fine_without_jti(kore: Kore) -> None:
    token = mint_token(kore.settings, ttl=7200, jti=None)
    assert kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(token)).status_code == 200


def test_bearer_header_instead_of_auth_is_rejected(kore: Kore) -> None:
    headers = kore.headers(auth=None)
    headers["Authorization"] = f"Bearer {mint_token(kore.settings)}"
    assert_error(kore.request("GET", kore.list_url(RENEWALS), headers=headers), 401, 4002)


def test_jti_replay_is_rejected(kore: Kore) -> None:
    token = mint_token(kore.settings, jti="once-only")
    assert kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(token)).status_code == 200
    r = kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(token))
    assert r.status_code == 401
    assert r.json()["errors"] == [{"msg": "error verifying the jwt: possibly a replay", "code": 401}]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"iid": "st-someone-else"}, "'iid'"),
        ({"iid": None}, "'iid'"),
        ({"accountId": "ffffffffffffffffffffffff"}, "'accountId'"),
        ({"accountId": None}, "'accountId'"),
    ],
)
def test_wrong_tenant_headers_are_401(kore: Kore, overrides: dict[str, str | None], words: str) -> None:
    r = kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(**overrides))
    assert_error(r, 401, 4002, words)


def test_iid_in_path_must_be_the_configured_one(kore: Kore) -> None:
    url = kore.list_url(RENEWALS).replace(kore.settings.iid, "st-other")
    assert_error(kore.request("GET", url, headers=kore.headers(iid="st-other")), 401, 4002, "iid")


def test_auth_is_checked_before_validation(kore: Kore, emulator: EmulatorServer) -> None:
    r = kore.request("PUT", kore.list_url(RENEWALS), headers=kore.headers(auth=None), json={"name1": 1})
    assert_error(r, 401, 4002)


def test_extra_clients_are_accepted(emulators: Emulators) -> None:
    emulator = emulators.get(extra_clients={"cs-second": OTHER_SECRET}, rate_limit_per_minute=0)
    kore = Kore(emulator)
    token = mint_token(emulator.settings, app_id="cs-second", secret=OTHER_SECRET)
    assert kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(token)).status_code == 200
    kore.close()


@pytest.fixture
def limited(emulators: Emulators) -> EmulatorServer:
    return emulators.get(rate_limit_per_minute=5)


def test_rate_limit_returns_429_with_retry_after(limited: EmulatorServer) -> None:
    kore = Kore(limited)
    try:
        statuses = [kore.request("GET", kore.list_url(RENEWALS)).status_code for _ in range(5)]
        assert statuses == [200] * 5
        r = kore.request("GET", kore.list_url(RENEWALS))
        assert r.status_code == 429
        assert r.json()["errors"] == [
            {
                "msg": "You've exceeded the per-minute rate limit. Please wait for sometime before retrying.",
                "code": 429,
            }
        ]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # unauthenticated calls and the admin API are not counted / not limited
        assert_error(kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(auth=None)), 401, 4002)
        assert kore.session.get(f"{limited.base_url}/_emulator/state", timeout=5).status_code == 200
        limited.reset()
        assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 200
    finally:
        kore.close()
