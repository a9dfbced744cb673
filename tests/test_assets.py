"""The ``koreai://`` asset scheme, as Airflow applies it once the provider registers it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from airflow.providers.common.compat.sdk import Asset

from airflow_provider_koreai import assets


def test_airflow_normalises_koreai_uris_with_our_handler() -> None:
    spelled = Asset("koreai://PLATFORM.Kore.ai:443/st-1/contact-lists/cl-1/")
    assert spelled.uri == "koreai://platform.kore.ai/st-1/contact-lists/cl-1"
    made = assets.create_asset(host="platform.kore.ai", iid="st-1", contact_list_id="cl-1")
    assert made == Asset("koreai://platform.kore.ai/st-1/contact-lists/cl-1"), (
        "the factory's asset is the same"
    )


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("koreai://contact-lists/cl-1", "must be koreai://<host>/<iid>/<contact-lists|campaigns>/<id>"),
        (
            "koreai://platform.kore.ai/st-1/flows/c-1",
            "must be koreai://<host>/<iid>/<contact-lists|campaigns>/<id>",
        ),
        (
            "koreai://platform.kore.ai/st-1/campaigns/",
            "must be koreai://<host>/<iid>/<contact-lists|campaigns>/<id>",
        ),
        ("koreai:///st-1/contact-lists/cl-1", "must contain the platform host"),
        ("koreai://platform.kore.ai/st-1/contact-lists/cl-1?x=1", "must not contain a query"),
    ],
)
def test_a_malformed_uri_fails_when_the_dag_is_parsed(uri: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        Asset(uri)


def test_the_uri_the_operators_emit_is_already_normal() -> None:
    uri = assets.contact_list_uri(host="127.0.0.1:8080", iid="st-1", contact_list_id="cl/odd id")
    assert uri == "koreai://127.0.0.1:8080/st-1/contact-lists/cl%2Fodd%20id"
    assert Asset(uri).uri == uri
    ipv6 = assets.contact_list_uri(host="[::1]:8080", iid="st-1", contact_list_id="cl-1")
    assert Asset(ipv6).uri == ipv6


def test_openlineage_names_follow_the_documented_convention() -> None:
    assert assets.openlineage_names("koreai://platform.kore.ai/st-1/contact-lists/cl-1") == (
        "koreai://platform.kore.ai",
        "st-1/contact-lists/cl-1",
    )
    assert assets.sanitize_uri(urlsplit("koreai://h:8443/a/contact-lists/b")).netloc == "h:8443"


def test_a_campaign_has_its_own_uri_and_openlineage_name() -> None:
    uri = assets.campaign_uri(host="Platform.Kore.ai", iid="st-1", campaign_id="cd-1")
    assert uri == "koreai://platform.kore.ai/st-1/campaigns/cd-1"
    assert Asset("koreai://PLATFORM.kore.ai:443/st-1/campaigns/cd-1/").uri == uri
    assert assets.openlineage_names(uri) == ("koreai://platform.kore.ai", "st-1/campaigns/cd-1")
