"""Property-based tests of the hook's arguments: no input ever reaches another endpoint.

For every generated combination of ids, names, descriptions, sources and booleans (valid ones, and
hostile ones: separators, dot segments, percent-escapes, unicode, control characters, values around
and far beyond the limits, ``None``, other types) the hook either

* raises a ``KoreAIValidationError`` naming one of the offending arguments, with nothing sent, or
* sends exactly one well-formed request to ``.../campaign/contactList/<one segment>``, where the
  segment decodes back to the id,

and which of the two happens is decided by the oracle of :mod:`tests.helpers.properties`
(:func:`~tests.helpers.properties.invalid_update_fields`), written from the documented rules rather than
imported from ``airflow_provider_koreai.validation``.

Every HTTP method on every URL is mocked, so a request to a wrong path is seen, not refused by the mock.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock as rm
from hypothesis import event, given
from hypothesis import strategies as st

from airflow_provider_koreai.exceptions import KoreAIValidationError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.properties import (
    HOSTILE_ID,
    OMITTED,
    PROPERTY_SETTINGS,
    VALID_ID,
    assert_addresses_one_list,
    assert_body,
    expected_body,
    id_is_valid,
    invalid_update_fields,
    mock_every_endpoint,
    update_arguments,
)

#: 1,000 cases per property: slow, so the older-Airflow legs skip them (nothing here depends on the release).
pytestmark = pytest.mark.slow

# -- properties -------------------------------------------------------------------------------------


@pytest.fixture
def hook(koreai_connection: None) -> KoreAIHook:
    # One attempt: every mocked answer is a success, and anything else should surface at once.
    return KoreAIHook(max_attempts=1)


@PROPERTY_SETTINGS
@given(args=update_arguments())
def test_update_sends_one_well_formed_put_or_refuses_before_sending(
    hook: KoreAIHook, args: dict[str, Any]
) -> None:
    invalid = invalid_update_fields(args)
    kwargs = {key: value for key, value in args.items() if value is not OMITTED}
    contact_list_id = kwargs.pop("contact_list_id")

    with rm.Mocker() as mocker:
        mock_every_endpoint(mocker)
        refusal: KoreAIValidationError | None = None
        try:
            data = hook.update_contact_list(contact_list_id, **kwargs)
        except KoreAIValidationError as error:
            refusal = error

    if refusal is not None:
        event(f"refused: {refusal.field}")
        assert invalid, f"valid arguments refused: {refusal}"
        assert refusal.field in invalid, (refusal.field, invalid)
        assert mocker.call_count == 0
        return

    event("sent")
    assert not invalid, f"request sent although {sorted(invalid)} break the rules"
    assert mocker.call_count == 1
    request = mocker.request_history[0]
    assert_addresses_one_list(request, "PUT", contact_list_id)
    assert_body(request, expected_body(args))
    assert data["contactListId"] == contact_list_id


@PROPERTY_SETTINGS
@given(contact_list_id=st.one_of(VALID_ID, HOSTILE_ID))
def test_get_sends_one_get_to_the_list_or_refuses_before_sending(
    hook: KoreAIHook, contact_list_id: Any
) -> None:
    with rm.Mocker() as mocker:
        mock_every_endpoint(mocker)
        refusal: KoreAIValidationError | None = None
        try:
            hook.get_contact_list(contact_list_id)
        except KoreAIValidationError as error:
            refusal = error

    if refusal is not None:
        event("refused")
        assert not id_is_valid(contact_list_id), f"valid id refused: {refusal}"
        assert refusal.field == "contact_list_id"
        assert mocker.call_count == 0
        return

    event("sent")
    assert id_is_valid(contact_list_id), f"request sent for invalid id {contact_list_id!r}"
    assert mocker.call_count == 1
    request = mocker.request_history[0]
    assert_addresses_one_list(request, "GET", contact_list_id)
    assert not request.body
