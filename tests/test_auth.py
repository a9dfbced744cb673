from __future__ import annotations

import time
from unittest import mock

import jwt
import pytest
import requests

from airflow_provider_koreai.auth import KoreAIJWTAuth
from tests.helpers.connections import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, IID


def make_auth(**overrides: object) -> KoreAIJWTAuth:
    kwargs: dict[str, object] = {"iid": IID, "account_id": ACCOUNT_ID}
    kwargs.update(overrides)
    return KoreAIJWTAuth(CLIENT_ID, CLIENT_SECRET, **kwargs)  # type: ignore[arg-type]


def test_token_claims() -> None:
    token = make_auth(ttl=600).mint_token()
    claims = jwt.decode(token, CLIENT_SECRET, algorithms=["HS256"])
    assert claims["appId"] == CLIENT_ID
    assert claims["sub"] == "airflow-provider-koreai"
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_fresh_jti_per_token() -> None:
    auth = make_auth()
    jtis = {jwt.decode(auth.mint_token(), CLIENT_SECRET, algorithms=["HS256"])["jti"] for _ in range(50)}
    assert len(jtis) == 50
    assert min(len(jti) for jti in jtis) >= 16


def test_signs_a_request_with_kore_headers() -> None:
    prepared = requests.Request("PUT", "https://platform.kore.ai/x", auth=make_auth(), json={}).prepare()
    assert set(prepared.headers) >= {"auth", "iid", "accountId"}
    assert prepared.headers["iid"] == IID
    assert prepared.headers["accountId"] == ACCOUNT_ID
    assert "Authorization" not in prepared.headers
    jwt.decode(prepared.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])


@pytest.mark.parametrize("ttl", [0, 3601])
def test_ttl_is_bounded_by_kores_limit(ttl: int) -> None:
    with pytest.raises(ValueError, match="3600"):
        make_auth(ttl=ttl)


def test_repr_hides_the_secret() -> None:
    text = repr(make_auth())
    assert CLIENT_ID in text
    assert CLIENT_SECRET not in text


def test_single_use_tokens_are_not_registered_with_the_masker() -> None:
    # Counted over many requests, through the hook and Airflow's own mask_secret: tests/hooks.
    auth = make_auth()
    with mock.patch("airflow_provider_koreai.auth.register_long_lived_secret") as register:
        tokens = {auth.token_for_request() for _ in range(3)}
    assert len(tokens) == 3
    register.assert_not_called()


def test_a_reused_token_is_registered_when_minted() -> None:
    auth = make_auth(enforce_jti=False)
    with mock.patch("airflow_provider_koreai.auth.register_long_lived_secret") as register:
        tokens = {auth.token_for_request() for _ in range(3)}
    assert len(tokens) == 1
    register.assert_called_once_with(tokens.pop())


def test_the_hmac_key_is_checked_once_and_still_refuses_asymmetric_keys() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    with pytest.raises(jwt.InvalidKeyError):
        make_auth_with_secret(pem)
    token = make_auth().mint_token()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def make_auth_with_secret(secret: str) -> KoreAIJWTAuth:
    return KoreAIJWTAuth(CLIENT_ID, secret, iid=IID, account_id=ACCOUNT_ID)


def test_without_enforce_jti_one_token_is_reused_until_close_to_expiry() -> None:
    auth = make_auth(enforce_jti=False, ttl=300)
    start = float(int(time.time()))
    with mock.patch("airflow_provider_koreai.auth.time.time", return_value=start):
        first = auth.token_for_request()
        assert auth.token_for_request() == first
    assert "jti" not in jwt.decode(first, CLIENT_SECRET, algorithms=["HS256"])
    # 60 s margin before the 300 s lifetime ends: renewed at 240 s.
    with mock.patch("airflow_provider_koreai.auth.time.time", return_value=start + 239):
        assert auth.token_for_request() == first
    with mock.patch("airflow_provider_koreai.auth.time.time", return_value=start + 240):
        assert auth.token_for_request() != first
