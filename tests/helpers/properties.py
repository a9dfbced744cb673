"""The hook's documented argument rules restated independently, as an oracle, and the Hypothesis
strategies that feed them valid and hostile values: shared by the property tests of the hook
(``tests/hooks/test_koreai_properties.py``) and of ``UpdateContactListOperator``
(``tests/operators/test_contact_list_properties.py``).

The oracle is written here from the documented rules rather than imported from
``airflow_provider_koreai.validation``, so that a rule changed there by mistake fails the properties.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

import requests_mock as rm
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.helpers.connections import BASE_URL, IID

# -- settings ---------------------------------------------------------------------------------------

#: At least 1,000 cases per target. ``derandomize`` and no example database keep CI deterministic:
#: every run explores the same cases, so a red build is reproducible from the log alone and never
#: depends on a ``.hypothesis`` directory left over from an earlier (or a colleague's) run. The
#: fixtures used are function-scoped on purpose (environment connection, one hook per test): the
#: requests mock is opened per example instead, so the health check about them does not apply.
PROPERTY_SETTINGS = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- the documented rules, restated independently --------------------------------------------------

NAME_LIMIT = 48
DESCRIPTION_LIMIT = 256
SOURCE_LIMIT = 48
ID_LIMIT = 256
#: "Control characters" in the Unicode sense: controls (Cc), invisible format characters such as
#: bidi overrides and zero-width joiners (Cf), and lone surrogates (Cs).
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
DESCRIPTION_LINE_CHARACTERS = frozenset("\n\r\t")

UPDATE_FIELDS = ("contact_list_id", "name", "allow_duplicates", "source", "description")
DEFAULT_SOURCE = "passiveApiIntegration"
#: Stands for "argument not passed" (the signature's default applies).
OMITTED: Any = object()


def has_control(text: str, *, allowed: frozenset[str] = frozenset()) -> bool:
    return any(char not in allowed and unicodedata.category(char) in CONTROL_CATEGORIES for char in text)


def id_is_valid(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= ID_LIMIT
        and "/" not in value
        and "\\" not in value
        and ".." not in value
        and value != "."
        and not any(char.isspace() for char in value)
        and not has_control(value)
    )


def required_text_is_valid(value: Any, limit: int) -> bool:
    return (
        isinstance(value, str)
        and any(not char.isspace() for char in value)
        and len(value) <= limit
        and not has_control(value)
    )


def description_is_valid(value: Any) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, str)
        and len(value) <= DESCRIPTION_LIMIT
        and not has_control(value, allowed=DESCRIPTION_LINE_CHARACTERS)
    )


def invalid_update_fields(args: dict[str, Any]) -> set[str]:
    """The arguments of ``update_contact_list`` the documented rules refuse (empty: a request is due)."""
    bad = set()
    if not id_is_valid(args["contact_list_id"]):
        bad.add("contact_list_id")
    if not required_text_is_valid(args["name"], NAME_LIMIT):
        bad.add("name")
    if not isinstance(args["allow_duplicates"], bool):
        bad.add("allow_duplicates")
    if args["source"] is not OMITTED and not required_text_is_valid(args["source"], SOURCE_LIMIT):
        bad.add("source")
    if args["description"] is not OMITTED and not description_is_valid(args["description"]):
        bad.add("description")
    return bad


# -- strategies -------------------------------------------------------------------------------------

#: Any code point, surrogates included (Hypothesis leaves them out unless asked).
ANY_CHARACTER = st.characters(exclude_categories=())
CONTROL_CHARACTER = st.characters(categories=["Cc", "Cf", "Cs"])
#: Letters, digits, marks, punctuation and symbols: the stuff of real names.
PRINTABLE_CHARACTER = st.characters(categories=["L", "M", "N", "P", "S"])
SPACE_CHARACTER = st.sampled_from(" \u00a0\u2000\u3000\u1680")

#: Pieces that stress URL building, Kore.ai's JSON and our validation.
TRICKY_FRAGMENTS = [
    *["/", "\\", "..", ".", "%2F", "%2f", "%5C", "%2E%2E", "%2e", "%", "%25", "%%", "%zz", "%00"],
    *["?", "#", "?type=call", "#frag", "&", "=", ";", ":", "@", "+", "~", "*", "'", '"', "<>", "`"],
    *["getAllListDetails", "getAllListDetails?type=call", "../getAllListDetails", "cl-1/../x"],
    *[" ", "\t", "\n", "\r", "\r\n", "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\x1c", "\x1f"],
    *["\u00a0", "\u2028", "\u2029", "\u3000", "\u200b", "\u200d", "\u200e", "\u202e", "\u2066", "\ufeff"],
    *["\ud800", "\udfff", "\ud83d", "\ufffe", "\uffff", "\U0010ffff", "\ue000"],
    *["😀", "👩\u200d👩\u200d👧", "🇫🇷", "مرحبا", "שלום", "e\u0301", "Z\u0324\u0354\u0367\u0311\u0313"],
    *["中文", "Ǆ", "ß", "İ", "\u017f", "\u212a", "ﬁ", "é", "null", "None", "true", "{{ x }}", "{%", "}}"],
]
FRAGMENT = st.one_of(
    st.sampled_from(TRICKY_FRAGMENTS),
    st.text(ANY_CHARACTER, max_size=8),
    st.text(PRINTABLE_CHARACTER, min_size=1, max_size=12),
    CONTROL_CHARACTER,
    SPACE_CHARACTER,
)
#: Strings glued together from tricky pieces and random unicode.
COMPOSED_TEXT = st.lists(FRAGMENT, max_size=8).map("".join)

#: Exactly ``n`` code points, for ``n`` at and around each limit and far beyond.
BOUNDARY_LENGTHS = [0, 1, 2, 47, 48, 49, 255, 256, 257, 400, 1000, 10_000]
FILLERS = ["a", "é", "中", "😀", "ß", "-", ".", " ", "\n", "\t", "\x00", "\u200b"]
BOUNDARY_TEXT = st.one_of(
    st.builds(lambda fill, n: fill * n, st.sampled_from(FILLERS), st.sampled_from(BOUNDARY_LENGTHS)),
    st.builds(
        lambda head, fill, n: (head + fill * n)[:n],
        st.text(PRINTABLE_CHARACTER, min_size=1, max_size=5),
        st.sampled_from(FILLERS[:5]),
        st.sampled_from(BOUNDARY_LENGTHS),
    ),
    st.integers(min_value=0, max_value=300).map(lambda n: "x" * n),
)
NOT_A_STRING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)

#: Otherwise acceptable text with one control character inside.
WITH_CONTROL = st.builds(
    lambda head, control, tail: head + control + tail,
    st.text(PRINTABLE_CHARACTER, max_size=20),
    CONTROL_CHARACTER,
    st.text(PRINTABLE_CHARACTER, max_size=20),
)

REALISTIC_ID = st.uuids().map(lambda uuid: f"cl-{uuid}")
VALID_ID = st.one_of(
    REALISTIC_ID,
    st.text(st.characters(categories=["L", "N"], include_characters="-_.~:@+"), min_size=1, max_size=64)
    .map(lambda text: text.replace("..", "._"))
    .filter(lambda text: text != "."),
)
HOSTILE_ID = st.one_of(
    st.sampled_from(["", ".", "..", "...", "./", "a/b", "/", "%2F", "..%2F", "getAllListDetails", ".a"]),
    st.builds(lambda a, b, c: a + b + c, REALISTIC_ID, st.sampled_from(TRICKY_FRAGMENTS), REALISTIC_ID),
    st.builds(lambda a, b: a + b, REALISTIC_ID, COMPOSED_TEXT),
    WITH_CONTROL,
    COMPOSED_TEXT,
    st.text(ANY_CHARACTER, max_size=400),
    BOUNDARY_TEXT,
    NOT_A_STRING,
)

VALID_NAME = st.one_of(
    st.text(PRINTABLE_CHARACTER, min_size=1, max_size=NAME_LIMIT),
    st.sampled_from(["Renewal Due - August 2025", "تجديد أغسطس", "😀 VIP", " padded ", "e\u0301\u0301"]),
)
HOSTILE_TEXT = st.one_of(
    COMPOSED_TEXT, WITH_CONTROL, BOUNDARY_TEXT, st.text(ANY_CHARACTER, max_size=300), NOT_A_STRING
)
VALID_DESCRIPTION = st.one_of(
    st.none(),
    st.text(st.one_of(PRINTABLE_CHARACTER, st.sampled_from(" \n\r\t")), max_size=DESCRIPTION_LIMIT),
)
VALID_SOURCE = st.one_of(st.just(DEFAULT_SOURCE), st.just(OMITTED), VALID_NAME)
VALID_BOOL = st.booleans()
HOSTILE_BOOL = st.one_of(
    st.sampled_from(["true", "false", "True", "FALSE", " true", "", "1", "0", "yes", "no", "none"]),
    st.integers(min_value=-1, max_value=2),
    st.floats(min_value=0, max_value=1),
    st.none(),
    st.text(max_size=6),
)

VALID_UPDATE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "contact_list_id": VALID_ID,
    "name": VALID_NAME,
    "allow_duplicates": VALID_BOOL,
    "source": VALID_SOURCE,
    "description": st.one_of(VALID_DESCRIPTION, st.just(OMITTED)),
}
HOSTILE_UPDATE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "contact_list_id": HOSTILE_ID,
    "name": HOSTILE_TEXT,
    "allow_duplicates": HOSTILE_BOOL,
    "source": HOSTILE_TEXT,
    "description": HOSTILE_TEXT,
}


#: Which arguments to draw from the hostile strategies: none, exactly one (so that each rule is seen
#: on its own, with nothing else to refuse first), or several.
HOSTILE_FIELDS = st.one_of(
    st.just(frozenset[str]()),
    st.sampled_from(UPDATE_FIELDS).map(lambda field: frozenset({field})),
    st.frozensets(st.sampled_from(UPDATE_FIELDS), min_size=2, max_size=3),
)


@st.composite
def update_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments of ``update_contact_list``: a few (often none) drawn from the hostile strategies.

    Drawing the hostile set first keeps a good share of fully valid cases; the hostile strategies also
    produce valid values now and then, which the oracle, not the strategy, sorts out.
    """
    hostile = draw(HOSTILE_FIELDS)
    return {
        field: draw(HOSTILE_UPDATE_VALUES[field] if field in hostile else VALID_UPDATE_VALUES[field])
        for field in UPDATE_FIELDS
    }


# -- checks of what was sent ------------------------------------------------------------------------

CONTACT_LIST_PATH = urlsplit(f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList").path
_SEGMENT = re.compile(r"(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})+")


def echo_success(request: Any, context: Any) -> dict[str, Any]:
    """A success envelope that echoes the list id and body the request carried."""
    segment = urlsplit(request.url).path.rsplit("/", 1)[-1]
    try:
        body = json.loads(request.body) if request.body else {}
    except ValueError:
        body = {}
    data = {"contactListId": unquote(segment), "body": body, "_id": unquote(segment), "name": "x"}
    return {"status": "success", "message": "ok", "data": data}


def mock_every_endpoint(mocker: rm.Mocker) -> None:
    mocker.register_uri(rm.ANY, rm.ANY, json=echo_success)


def assert_addresses_one_list(request: Any, method: str, contact_list_id: str) -> None:
    """``request`` is ``method`` on the contact list ``contact_list_id`` and nothing else.

    ``request.url`` rather than ``request.path``: requests-mock lowercases the latter.
    """
    assert request.method == method
    url = urlsplit(request.url)
    expected = urlsplit(BASE_URL)
    assert (url.scheme, url.netloc) == (expected.scheme, expected.netloc)
    assert url.query == ""
    assert url.fragment == ""
    prefix, _, segment = url.path.rpartition("/")
    assert prefix == CONTACT_LIST_PATH, url.path
    assert _SEGMENT.fullmatch(segment), segment
    assert segment not in (".", "..")
    assert unquote(segment, errors="strict") == contact_list_id


def expected_body(args: dict[str, Any]) -> dict[str, Any]:
    source = DEFAULT_SOURCE if args["source"] is OMITTED else args["source"]
    body = {"name": args["name"], "source": source, "allowDuplicates": args["allow_duplicates"]}
    if args["description"] not in (None, OMITTED):
        body["description"] = args["description"]
    return body


def assert_body(request: Any, expected: dict[str, Any]) -> None:
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(request.body)
    assert sent == expected
    assert set(sent) == set(expected)
    assert type(sent["allowDuplicates"]) is bool
    assert all(type(sent[key]) is str for key in sent if key != "allowDuplicates")
