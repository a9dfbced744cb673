"""``KoreAIHook``'s contact-list lifecycle, edge cases against mocked HTTP (how an ambiguous create is
resolved, exact-name lookup, answers without data). The same calls across a real wire, with scripted
faults: ``tests/integration/test_hook_emulator.py``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests_mock as rm

from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAITransportError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.connections import BASE_URL, IID

PREFIX = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
CREATE_URL = f"{PREFIX}/createContactList"
LIST_ALL_URL = f"{PREFIX}/getAllListDetails?type=call"
CREATED = {"_id": "cl-new", "name": "Renewal Due", "totalRecordCount": 0}


def envelope(data: Any) -> dict[str, Any]:
    return {"status": "success", "message": "ok", "data": data}


@pytest.fixture
def hook(koreai_connection: None) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.001, backoff_max=0.01)


class TestCreate:
    def test_a_5xx_is_resolved_by_name_before_posting_again(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(CREATE_URL, status_code=502, text="<html>Bad Gateway</html>")
        requests_mock.post(LIST_ALL_URL, json=envelope([CREATED, {"_id": "cl-other", "name": "Other"}]))
        assert hook.create_contact_list(name="Renewal Due") == CREATED
        posts = [r for r in requests_mock.request_history if r.url == CREATE_URL]
        assert len(posts) == 1, "the list existed after the 502: no second create"

    def test_posted_again_when_the_lookup_finds_nothing(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(
            CREATE_URL,
            [{"exc": requests.exceptions.ReadTimeout("read timed out")}, {"json": envelope(CREATED)}],
        )
        requests_mock.post(LIST_ALL_URL, json=envelope([]))
        assert hook.create_contact_list(name="Renewal Due") == CREATED
        assert [r.url for r in requests_mock.request_history] == [CREATE_URL, LIST_ALL_URL, CREATE_URL]

    def test_ambiguity_exhausted_says_so(self, set_connection: Any, requests_mock: rm.Mocker) -> None:
        set_connection(extra={"max_attempts": 2})
        requests_mock.post(CREATE_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
        requests_mock.post(LIST_ALL_URL, json=envelope([]))
        with pytest.raises(KoreAITransportError, match="not idempotent"):
            KoreAIHook(backoff_initial=0.001).create_contact_list(name="Renewal Due")

    def test_a_429_is_simply_retried(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            CREATE_URL, [{"status_code": 429, "headers": {"Retry-After": "0"}}, {"json": envelope(CREATED)}]
        )
        assert hook.create_contact_list(name="Renewal Due") == CREATED
        assert requests_mock.call_count == 2

    def test_validation_before_sending(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        with pytest.raises(KoreAIValidationError, match="name"):
            hook.create_contact_list(name="x" * 49)
        assert requests_mock.call_count == 0


class TestFindAndDelete:
    def test_find_is_exact(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            LIST_ALL_URL, json=envelope([{"_id": "cl-1", "name": "Renewal Due - 2025"}, CREATED])
        )
        assert hook.find_contact_list("Renewal Due") == CREATED
        assert hook.find_contact_list("renewal due") is None

    def test_two_lists_of_one_name_are_an_error(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(LIST_ALL_URL, json=envelope([CREATED, {**CREATED, "_id": "cl-twin"}]))
        with pytest.raises(KoreAIError, match=r"2 Kore\.ai contact lists are named 'Renewal Due'"):
            hook.find_contact_list("Renewal Due")

    @pytest.mark.parametrize(
        ("answer", "expected"),
        [
            ({"status": "success", "message": "deleted", "data": CREATED}, CREATED),
            ({"status": "success"}, {}),
        ],
    )
    def test_delete(self, hook: KoreAIHook, requests_mock: rm.Mocker, answer: Any, expected: Any) -> None:
        requests_mock.delete(f"{PREFIX}/cl-new", json=answer)
        assert hook.delete_contact_list("cl-new") == expected


class TestAddContacts:
    @pytest.mark.parametrize("chunk_size", [0, -1, 1.5, True])
    def test_bad_chunk_size(self, hook: KoreAIHook, requests_mock: rm.Mocker, chunk_size: Any) -> None:
        with pytest.raises(KoreAIValidationError, match="chunk_size"):
            hook.add_contacts("Renewal Due", [], chunk_size=chunk_size)
        assert requests_mock.call_count == 0
