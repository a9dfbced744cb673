"""``KoreAIHook.count_contacts``: the one reading of a list's count, by id or by exact name (the sensor,
the trigger and AddContactsOperator parse nothing themselves). Across the wire, blocking and async:
``tests/integration/test_pipeline_emulator.py``."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock as rm

from airflow_provider_koreai.exceptions import KoreAIUnexpectedResponseError, KoreAIValidationError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import ContactCount
from tests.helpers.connections import BASE_URL, IID

PREFIX = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
LIST_ALL_URL = f"{PREFIX}/getAllListDetails?type=call"


def envelope(data: Any) -> dict[str, Any]:
    return {"status": "success", "message": "ok", "data": data}


@pytest.fixture
def hook(koreai_connection: None) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.001, backoff_max=0.01)


def test_by_id_one_read(hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{PREFIX}/cl-1", json=envelope({"_id": "cl-1", "totalRecordCount": 7}))

    assert hook.count_contacts(contact_list_id="cl-1") == ContactCount("cl-1", 7, allow_duplicates=None)
    assert requests_mock.call_count == 1


def test_by_name_from_the_list_of_lists(hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
    lists = [{"_id": "cl-1", "name": "Renewals", "totalRecordCount": 4, "allowDuplicates": True}]
    requests_mock.post(LIST_ALL_URL, json=envelope(lists))

    assert hook.count_contacts("Renewals") == ContactCount("cl-1", 4, allow_duplicates=True)
    assert requests_mock.call_count == 1


def test_by_name_reads_the_list_when_the_list_of_lists_has_no_count(
    hook: KoreAIHook, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(LIST_ALL_URL, json=envelope([{"_id": "cl-1", "name": "Renewals"}]))
    requests_mock.get(f"{PREFIX}/cl-1", json=envelope({"_id": "cl-1", "totalRecordCount": 2}))

    assert hook.count_contacts("Renewals") == ContactCount("cl-1", 2, allow_duplicates=None)
    assert [r.method for r in requests_mock.request_history] == ["POST", "GET"]


def test_an_unknown_name_is_none(hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
    requests_mock.post(LIST_ALL_URL, json=envelope([{"_id": "cl-1", "name": "Other"}]))

    assert hook.count_contacts("Renewals") is None


def test_an_answer_without_a_count_is_an_error(hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{PREFIX}/cl-1", json=envelope({"_id": "cl-1", "totalRecordCount": "7"}))

    with pytest.raises(KoreAIUnexpectedResponseError, match="totalRecordCount is str '7'"):
        hook.count_contacts(contact_list_id="cl-1")


@pytest.mark.parametrize("arguments", [{}, {"contact_list_name": "Renewals", "contact_list_id": "cl-1"}])
def test_exactly_one_way_to_name_the_list(
    hook: KoreAIHook, requests_mock: rm.Mocker, arguments: dict[str, Any]
) -> None:
    with pytest.raises(KoreAIValidationError, match="exactly one"):
        hook.count_contacts(**arguments)
    assert requests_mock.call_count == 0
