"""Argument checks and the one coercion layer: one function per rule, used by the operators, the sensor,
the hook, the trigger and the connection reader.

They run before anything is sent, so a bad value never reaches Kore.ai, and every refusal is a
:class:`~airflow_provider_koreai.exceptions.KoreAIValidationError` (a ``ValueError``) that names the
argument the DAG author wrote and what it must be (the connection reader turns it into a
``KoreAIConfigurationError`` naming the connection and the extra). Kept free of heavy imports: operator
modules load it at DAG parse time.

Booleans (:func:`parse_bool`), whole numbers (:func:`whole_number`) and durations (:func:`seconds`) are
each one rule. What differs is how a value may be spelled, by where it comes from, and each difference
is a named parameter:

* an argument that is not templated (``chunk_size``, ``hook_params``, the hook's own arguments): the
  Python type only (``allow_text=False``, :func:`strict_bool`);
* a templated argument: also the text a Jinja template renders (``"12"``, ``"true"``/``"false"``);
* a connection extra (:func:`extra`): also numbers as text with a decimal point (``"30.0"``) and
  ``yes``/``no``/``1``/``0`` (:data:`CONNECTION_BOOLEAN_WORDS`), as forms, JSON and URIs deliver them.

Several arguments are checked at once with :class:`Refusals`, which raises every refusal in one
:class:`~airflow_provider_koreai.exceptions.KoreAIInvalidArgumentsError`: an operator's constructor
checks its literal arguments that way when the DAG is parsed (:func:`is_literal`,
:class:`TemplateRendering`), and its rendered ones when the task runs.

pydantic is not used: its lax booleans take ``on``/``off``/``t``/``f``/``y``/``n`` and the integers 0
and 1, wider than either side here, and its messages would need translating to ours.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from airflow_provider_koreai.defaults import (
    BOOLEAN,
    BOOLEAN_OR_PATH,
    CAMPAIGN_STATUSES,
    CAMPAIGN_TYPES,
    CONNECTION_EXTRAS,
    SECONDS,
    WHOLE_NUMBER,
)
from airflow_provider_koreai.exceptions import KoreAIInvalidArgumentsError, KoreAIValidationError

T = TypeVar("T")
#: The shape of an argument's rule: ``rule(value, field)`` returns the value checked, or raises
#: :class:`~airflow_provider_koreai.exceptions.KoreAIValidationError` naming ``field``.
Rule = Callable[[Any, str], Any]

#: Kore.ai's documented limits for contact lists.
MAX_NAME_LENGTH = 48
MAX_DESCRIPTION_LENGTH = 256
#: Not documented by Kore.ai; real ids are about 40 characters. A generous bound keeps URLs sane.
MAX_ID_LENGTH = 256

#: How a templated boolean argument may be written, in any case: as Jinja renders a Python bool.
BOOLEAN_WORDS: Mapping[str, bool] = {"true": True, "false": False}
#: How a connection's boolean extras (``enforce_jti``, ``verify``) may be written, in any case. Wider
#: than :data:`BOOLEAN_WORDS`, deliberately: extras are configuration typed by hand into URIs
#: (``?verify=0``), environment variables and secrets backends, where ``yes``/``no`` and ``1``/``0``
#: are usual spellings, and the connection reader has always taken them. A DAG argument gets its text
#: from a template, which renders a bool as ``True``/``False``: there a ``1`` or a ``yes`` is more
#: likely a count or a word in the wrong place, and is refused.
CONNECTION_BOOLEAN_WORDS: Mapping[str, bool] = {
    **BOOLEAN_WORDS,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
}

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _has_control_characters(value: str) -> bool:
    """Control, format or surrogate characters (Unicode categories Cc, Cf, Cs).

    ``str.isprintable()`` is false for every such character, so a printable string (nearly every real
    value) is answered at C speed; only the rest is checked character by character.
    """
    if value.isprintable():
        return False
    import unicodedata

    return any(unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in value)


def describe(value: Any, limit: int = 60) -> str:
    """A value's ``repr()``, cut to ``limit`` characters: how every error message shows a bad value."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require_text(field: str, value: Any, *, max_length: int, allow_newlines: bool = False) -> str:
    """A non-blank string of at most ``max_length`` characters without control characters."""
    if not isinstance(value, str):
        raise KoreAIValidationError(field, f"must be a string, got {type(value).__name__} {describe(value)}")
    if not value.strip():
        raise KoreAIValidationError(field, "must not be empty or blank")
    return check_text_length(field, value, max_length=max_length, allow_newlines=allow_newlines)


def optional_text(field: str, value: Any, *, max_length: int, allow_newlines: bool = False) -> str | None:
    """``None`` or a string of at most ``max_length`` characters (may be empty)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise KoreAIValidationError(
            field, f"must be a string or None, got {type(value).__name__} {describe(value)}"
        )
    return check_text_length(field, value, max_length=max_length, allow_newlines=allow_newlines)


def check_text_length(field: str, value: str, *, max_length: int, allow_newlines: bool = False) -> str:
    if len(value) > max_length:
        raise KoreAIValidationError(
            field,
            f"is {len(value)} characters long; Kore.ai accepts at most {max_length}. Shorten it.",
        )
    checked = value.replace("\n", "").replace("\r", "").replace("\t", "") if allow_newlines else value
    if _has_control_characters(checked):
        raise KoreAIValidationError(field, "contains control characters; remove them")
    return value


def contact_list_name(value: Any, field: str = "name") -> str:
    return require_text(field, value, max_length=MAX_NAME_LENGTH)


def contact_list_description(value: Any, field: str = "description") -> str | None:
    return optional_text(field, value, max_length=MAX_DESCRIPTION_LENGTH, allow_newlines=True)


def contact_list_id(value: Any, field: str = "contact_list_id") -> str:
    """An id that can only ever address one contact list.

    The id is percent-encoded into the URL path as well; refusing separators, dot segments, whitespace
    and control characters up front turns a mistake (an empty XCom, a pasted URL) into a clear error
    instead of a request to some other endpoint.
    """
    if not isinstance(value, str):
        raise KoreAIValidationError(field, f"must be a string, got {type(value).__name__} {describe(value)}")
    if not value:
        raise KoreAIValidationError(field, "must not be empty; pass the id of the list, e.g. 'cl-...'")
    if len(value) > MAX_ID_LENGTH:
        raise KoreAIValidationError(field, f"is {len(value)} characters long; at most {MAX_ID_LENGTH}")
    if "/" in value or "\\" in value:
        raise KoreAIValidationError(
            field, f"must be a bare id such as 'cl-...', not a path: {describe(value)}"
        )
    if ".." in value or value == ".":
        raise KoreAIValidationError(field, f"must not contain '..' or be '.': {describe(value)}")
    if (" " in value or not value.isprintable()) and (
        any(char.isspace() for char in value) or _has_control_characters(value)
    ):
        raise KoreAIValidationError(
            field, f"must not contain whitespace or control characters: {describe(value)}"
        )
    return value


def source(value: Any, field: str = "source") -> str:
    return require_text(field, value, max_length=MAX_NAME_LENGTH)


# -- campaigns --------------------------------------------------------------------------------------------

#: Kore.ai's documented limits of a campaign (Create Voice/SMS Campaign pages and the UI FAQ).
MAX_CAMPAIGN_CONTACT_LISTS = 10
DIALING_MODES = ("Agentless", "Progressive", "Preview")
CALLING_FREQUENCIES = ("WEEKLY", "DAILY", "CUSTOM")
CALLING_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DIALING_ORDERS = ("FIFO", "LIFO")
SMS_FORMATS = ("simple", "advanced")
PRIORITIES = ("1", "2", "3", "4", "5")
#: ``"9:00 AM"``: how Kore.ai writes the start and end of calling hours.
_CLOCK_TIME = re.compile(r"(1[0-2]|0?[1-9]):[0-5][0-9] (AM|PM)")


def campaign_id(value: Any, field: str = "campaign_id") -> str:
    """A campaign's id (``cd-...``): one path segment, as :func:`contact_list_id` checks a list's."""
    if isinstance(value, str) and not value:
        raise KoreAIValidationError(field, "must not be empty; pass the id of the campaign, e.g. 'cd-...'")
    return contact_list_id(value, field)


def campaign_type(value: Any, field: str = "campaign_type") -> str:
    """``"voice"`` or ``"sms"``."""
    return one_of(value, field, CAMPAIGN_TYPES)


def campaign_statuses(value: Any, field: str) -> tuple[str, ...]:
    """Campaign statuses as Kore.ai spells them (:data:`~airflow_provider_koreai.defaults.CAMPAIGN_STATUSES`):
    a list or tuple of them, or one as a string."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise KoreAIValidationError(
            field, f"must be a list of campaign statuses such as ['Completed'], got {describe(value)}"
        )
    unknown = [item for item in items if item not in CAMPAIGN_STATUSES]
    if unknown:
        allowed = ", ".join(CAMPAIGN_STATUSES)
        raise KoreAIValidationError(
            field, f"has {describe(unknown)}, not campaign statuses; use Kore.ai's spelling: {allowed}"
        )
    return tuple(dict.fromkeys(items))


def campaign_spec(value: Any, campaign_type: str, field: str = "spec") -> dict[str, Any]:
    """A campaign's definition, checked field by field as Kore.ai's create and update pages document it,
    and returned as the JSON body to send (numbers spelled as Kore.ai wants them: ``priority`` ``"5"``).

    Every refusal is raised at once
    (:class:`~airflow_provider_koreai.exceptions.KoreAIInvalidArgumentsError`), each named by its path
    (``spec.dialingStrategy.maxRingTime``). Fields Kore.ai
    documents but this check does not know (``dncLists`` of the v2 pages, say) are sent as given.

    :param campaign_type: ``"voice"``: ``dialingMode`` with its mode's fields (``experienceFlowName``
        for Agentless, ``queue_name`` for Progressive and Preview, ``maxSkips`` for Preview),
        ``enableMachineDetect`` and the dialing strategy's attempts and ring time; ``"sms"``: ``format``,
        with ``message.message`` (simple) or ``experienceFlowName`` (advanced).
    """
    if not isinstance(value, Mapping):
        raise KoreAIValidationError(
            field,
            f"must be a dict of Kore.ai's campaign fields (name, contactLists...), got {describe(value)}",
        )
    refusals = Refusals()
    body: dict[str, Any] = dict(value)

    def check(key: str, rule: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        checked = refusals.check(rule, body.get(key), f"{field}.{key}", *args, **kwargs)
        if checked is not None:
            body[key] = checked

    sms_advanced = campaign_type == "sms" and body.get("format") == "advanced"
    check("name", contact_list_name)
    if sms_advanced and body.get("description") is None:
        body.pop("description", None)
    else:
        check(
            "description",
            lambda text, name: require_text(
                name, text, max_length=MAX_DESCRIPTION_LENGTH, allow_newlines=True
            ),
        )
    check("contactLists", _campaign_contact_lists)
    if not (sms_advanced and body.get("priority") is None):
        check("priority", _priority)
    if campaign_type == "voice":
        check("dialingMode", one_of, DIALING_MODES)
        mode = body.get("dialingMode")
        if mode == "Agentless":
            check("experienceFlowName", contact_list_name)
        elif mode in ("Progressive", "Preview"):
            check("queue_name", contact_list_name)
        if mode == "Preview":
            check("maxSkips", whole_number)
        check("enableMachineDetect", parse_bool)
    else:
        check("format", one_of, SMS_FORMATS)
        if body.get("format") == "simple":
            check("message", _sms_message)
        elif body.get("format") == "advanced":
            check("experienceFlowName", contact_list_name)
    check("dialingStrategy", _dialing_strategy, voice=campaign_type == "voice")
    schedule = body.setdefault("schedule", {"isSchedulingEnabled": False})
    if not isinstance(schedule, Mapping):
        refusals.add(
            f"{field}.schedule",
            f"must be a dict such as {{'isSchedulingEnabled': False}}, got {describe(schedule)}",
        )
    refusals.raise_all()
    return body


def _campaign_contact_lists(value: Any, field: str) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise KoreAIValidationError(
            field,
            f"must be a list of 1 to {MAX_CAMPAIGN_CONTACT_LISTS} contact list names, got {describe(value)}",
        )
    if len(value) > MAX_CAMPAIGN_CONTACT_LISTS:
        raise KoreAIValidationError(
            field, f"names {len(value)} lists; a campaign takes at most {MAX_CAMPAIGN_CONTACT_LISTS}"
        )
    return [contact_list_name(name, f"{field}[{index}]") for index, name in enumerate(value)]


def _priority(value: Any, field: str) -> str:
    """Kore.ai's priority, 1 (lowest) to 5, sent as a string; an int or its digits are taken."""
    return str(whole_number(value, field, minimum=1, maximum=5))


def _sms_message(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise KoreAIValidationError(field, f"must be a dict with the 'message' text, got {describe(value)}")
    require_text(f"{field}.message", value.get("message"), max_length=10_000, allow_newlines=True)
    return dict(value)


def _dialing_strategy(value: Any, field: str, *, voice: bool) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise KoreAIValidationError(
            field, f"must be a dict with callerId and callingHours, got {describe(value)}"
        )
    refusals = Refusals()
    strategy = dict(value)
    caller = strategy.get("callerId")
    if not isinstance(caller, Mapping):
        refusals.add(f"{field}.callerId", "must be a dict {'phoneNumber': <the verified caller id>}")
    else:
        refusals.check(
            require_text, f"{field}.callerId.phoneNumber", caller.get("phoneNumber"), max_length=32
        )
    hours = refusals.check(_calling_hours, strategy.get("callingHours"), f"{field}.callingHours")
    if hours is not None:
        strategy["callingHours"] = hours
    if voice:
        limits = {"maxAttemptsPerRecord": (1, 100), "defaultRetryPeriod": (1, 1440), "maxRingTime": (5, 120)}
        for key, (low, high) in limits.items():
            number = refusals.check(
                whole_number, strategy.get(key), f"{field}.{key}", minimum=low, maximum=high
            )
            if number is not None:
                strategy[key] = number
        refusals.check(one_of, strategy.get("dialingOrder"), f"{field}.dialingOrder", DIALING_ORDERS)
    refusals.raise_all()
    return strategy


def _calling_hours(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise KoreAIValidationError(
            field, f"must be a dict with frequency, timezone and days, got {describe(value)}"
        )
    refusals = Refusals()
    refusals.check(one_of, value.get("frequency"), f"{field}.frequency", CALLING_FREQUENCIES)
    refusals.check(time_zone, value.get("timezone"), f"{field}.timezone")
    days = value.get("days")
    if not isinstance(days, list | tuple) or not days:
        refusals.add(f"{field}.days", "must be a list of {'day': 'MO', 'start': '9:00 AM', 'end': '6:00 PM'}")
    else:
        for index, day in enumerate(days):
            where = f"{field}.days[{index}]"
            if not isinstance(day, Mapping):
                refusals.add(where, f"must be a dict {{'day', 'start', 'end'}}, got {describe(day)}")
                continue
            refusals.check(one_of, day.get("day"), f"{where}.day", CALLING_DAYS)
            for end in ("start", "end"):
                text = day.get(end)
                if not isinstance(text, str) or not _CLOCK_TIME.fullmatch(text):
                    refusals.add(f"{where}.{end}", f"must be a time such as '9:00 AM', got {describe(text)}")
    refusals.raise_all()
    return dict(value)


def time_zone(value: Any, field: str) -> str:
    """A time zone of the tz database (``"Asia/Kolkata"``), as Kore.ai's calling hours take it."""
    text = require_text(field, value, max_length=64)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise KoreAIValidationError(
            field, f"is not a time zone of the tz database (e.g. 'America/New_York'): {describe(text)}"
        ) from None
    return text


def connection_id(value: Any, field: str = "koreai_conn_id") -> str:
    """The id of an Airflow connection: a non-blank string (whether it exists is known only when the
    task reads it: a DAG parse never looks connections up)."""
    if not isinstance(value, str) or not value.strip():
        raise KoreAIValidationError(
            field, f"must be the id of an Airflow connection, a non-empty string, got {describe(value)}"
        )
    return value


def optional_connection_id(value: Any, field: str) -> str | None:
    """``None`` or ``""`` (what a template renders for "none": the default connection), or a connection id."""
    return None if value is None or value == "" else connection_id(value, field)


def optional(rule: Rule) -> Rule:
    """``rule``, letting ``None`` through (an argument whose default is ``None``)."""
    return lambda value, field: None if value is None else rule(value, field)


# -- where AddContactsOperator's contacts come from: records, a file, column renames ------------------
# The rules of a file's format and of column renames live in the contact reader
# (:mod:`airflow_provider_koreai.contacts`, standard library only); these functions name the argument,
# and import the reader only when a value is there to check.


def contact_records(value: Any, field: str = "records") -> Sequence[Any]:
    """Contact records as given: a list (or any iterable that is not text or a mapping), or the text a
    template renders for one (a JSON array, or the Python ``repr`` of a list, what Jinja renders without
    ``render_template_as_native_obj``). The records themselves are checked one by one later, as rows: an
    invalid row counts against ``max_invalid_rows``."""
    if isinstance(value, str):
        value = _records_from_text(value.strip(), field)
    if isinstance(value, Mapping):
        raise KoreAIValidationError(field, "must be a list of records, got a single mapping")
    if value is None or isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise KoreAIValidationError(field, f"must be a list of records, got {type(value).__name__}")
    return value if isinstance(value, Sequence) else list(value)


def _records_from_text(text: str, field: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise KoreAIValidationError(
            field,
            # Length only: the text is contact data, and this error is logged.
            f"is text ({len(text)} characters) that is neither a JSON array nor a Python list",
        ) from None


def contact_file_kind(location: str, file_format: str | None, field: str = "path") -> str:
    """The format of the contacts file at ``location``: ``file_format`` when given, else its suffix's
    (``.csv``, ``.jsonl``/``.ndjson``, optionally followed by ``.gz``)."""
    if file_format:
        return file_format
    from airflow_provider_koreai.contacts import ContactFileError, file_kind

    try:
        return file_kind(location)
    except ContactFileError as error:
        raise KoreAIValidationError(field, str(error)) from None


def contact_file_path(value: Any, field: str = "path", *, file_format: str | None = None) -> Any:
    """A contacts file as the DAG names it, before anything is opened: a local path or an object-storage
    URI, whose format is known (``file_format``, else its suffix). Whether it exists is known only on the
    worker, when the task runs (an ``ObjectStoragePath`` is checked then too, through its store)."""
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise KoreAIValidationError(
            field,
            f"must be a file path, an object-storage URI or an ObjectStoragePath, got {describe(value)}",
        )
    contact_file_kind(str(value), file_format, field)
    return value


def column_map(value: Any, field: str = "column_map") -> dict[str, str]:
    """``None`` (no renames) or a mapping of source column to Kore.ai column: non-empty names, no two
    sources renamed to the same column."""
    if value is None:
        return {}
    from airflow_provider_koreai.contacts import check_column_map

    try:
        return check_column_map(value)
    except ValueError as error:
        raise KoreAIValidationError(field, str(error)) from None


def _number_text(value: str, *, decimal_point: bool) -> float | None:
    """The number ``value`` spells, or ``None``: ASCII digits, and with ``decimal_point`` also a sign, a
    decimal point and an exponent (``"30.0"``, ``"1e3"``). Never ``"inf"``, ``"nan"``, ``"1_000"`` or
    other scripts' digits (``"²"``, ``"١٢"``), all of which Python's ``float()`` would take."""
    text = value.strip()
    if not (_DECIMAL if decimal_point else _DIGITS).fullmatch(text):
        return None
    return float(text) if decimal_point else int(text)


def whole_number(
    value: Any,
    field: str,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    allow_text: bool = True,
    allow_decimal_point: bool = False,
) -> int:
    """A whole number from ``minimum`` to ``maximum``; never a bool.

    :param allow_text: also its ASCII digits as a string, as a Jinja template renders an ``int``
        (``"12"``, not ``"1.5"``, ``"²"`` or ``"-1"``). Off for arguments that are not templated.
    :param allow_decimal_point: also a ``float`` without a fraction (``30.0``) and, with ``allow_text``,
        any decimal spelling of one (``"30.0"``, ``"3e1"``). For connection extras only: the form (a
        text field on Airflow < 3.2) and JSON or URI connections may deliver numbers as ``"30"`` or
        ``"30.0"``, while a template renders an ``int`` as its digits, so a DAG argument ``"30.0"`` is
        more likely a float that was meant to be a count.
    """
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int) or (allow_decimal_point and isinstance(value, float)):
        number = value
    elif allow_text and isinstance(value, str):
        number = _number_text(value, decimal_point=allow_decimal_point)
    bounds = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if number is None or not math.isfinite(number):
        spelled = ""
        if allow_text:
            spelled = (
                " (or a number as text, e.g. '30')" if allow_decimal_point else " (or its digits as a string)"
            )
        raise KoreAIValidationError(field, f"must be a whole number {bounds}{spelled}, got {describe(value)}")
    if number != int(number) or number < minimum or (maximum is not None and number > maximum):
        raise KoreAIValidationError(field, f"must be a whole number {bounds}, got {describe(value)}")
    return int(number)


def optional_whole_number(
    value: Any,
    field: str,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    allow_text: bool = True,
    allow_decimal_point: bool = False,
) -> int | None:
    """``None``, or a whole number as :func:`whole_number` takes it."""
    if value is None:
        return None
    return whole_number(
        value,
        field,
        minimum=minimum,
        maximum=maximum,
        allow_text=allow_text,
        allow_decimal_point=allow_decimal_point,
    )


def record_count(value: Any, field: str) -> int:
    """A whole number of contacts, at least 0: an ``int``, or its ASCII digits as a template renders them."""
    return whole_number(value, field)


def settle_polls(value: Any, field: str = "settle_polls") -> int:
    """How many unchanged reads end a wait short of its target: a whole number of at least 1."""
    return whole_number(value, field, minimum=1)


def seconds(value: Any, field: str, *, allow_text: bool = False) -> float:
    """A duration in seconds, above 0 and finite: an ``int`` or a ``float``, never a bool.

    :param allow_text: also a number as text (``"30"``, ``"0.5"``, ``"30.0"``). For connection extras:
        the form and JSON or URI connections may deliver numbers as strings. No argument of ours that
        takes seconds is templated, so arguments take numbers only.
    """
    number = value
    if allow_text and isinstance(value, str):
        number = _number_text(value, decimal_point=True)
    if isinstance(number, bool) or not isinstance(number, int | float) or not 0 < number < math.inf:
        spelled = " (or a number as text, e.g. '30' or '0.5')" if allow_text else ""
        raise KoreAIValidationError(
            field, f"must be a number of seconds above 0{spelled}, got {describe(value)}"
        )
    return float(number)


def optional_seconds(value: Any, field: str, *, allow_text: bool = False) -> float | None:
    """``None``, or a duration as :func:`seconds` takes it."""
    return None if value is None else seconds(value, field, allow_text=allow_text)


def epoch_seconds(value: Any, field: str) -> float:
    """A point in time as seconds since the epoch (absolute, so that it survives a restart)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise KoreAIValidationError(field, f"must be seconds since the epoch, got {describe(value)}")
    return float(value)


def one_of(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(map(repr, choices))
        raise KoreAIValidationError(field, f"must be one of {allowed}, got {describe(value)}")
    return value


def strict_bool(value: Any, field: str) -> bool:
    """A real boolean: for arguments that are not templated, and for the hook, which sends it to Kore.ai
    as a JSON boolean."""
    return parse_bool(value, field, words={})


def parse_bool(value: Any, field: str, *, words: Mapping[str, bool] = BOOLEAN_WORDS) -> bool:
    """A boolean, or one of ``words`` in any case around whitespace.

    :param words: the text accepted for ``True`` and ``False``: :data:`BOOLEAN_WORDS` (``true``/``false``,
        as a Jinja template renders a bool) for DAG arguments, :data:`CONNECTION_BOOLEAN_WORDS` for the
        connection's extras, an empty mapping for a real bool only (:func:`strict_bool`).
    """
    if isinstance(value, bool):
        return value
    if words and isinstance(value, str):
        found = words.get(value.strip().lower())
        if found is not None:
            return found
    if not words:
        problem = f"must be True or False, got {type(value).__name__} {describe(value)}"
    else:
        spelled = "/".join(f"'{word}'" for word in words)
        problem = f"must be a boolean or the text {spelled} (any case), got {describe(value)}"
    raise KoreAIValidationError(field, problem)


# -- the connection's extras and the hook's arguments: kinds, defaults and limits from defaults.py -------


def extra(name: str, value: Any, field: str | None = None, *, from_connection: bool = True) -> Any:
    """``value`` of the connection extra ``name``, checked by its kind and limits in
    :data:`~airflow_provider_koreai.defaults.CONNECTION_EXTRAS`; ``None`` stays ``None`` (not set).

    :param field: how the refusal names the value; default ``name``.
    :param from_connection: spelled as a connection may spell it (numbers as text, ``"30.0"``,
        :data:`CONNECTION_BOOLEAN_WORDS`); ``False`` for a Python argument such as ``hook_params``,
        which takes the Python type only.
    """
    if value is None:
        return None
    spec, field = CONNECTION_EXTRAS[name], field or name
    if spec.kind == WHOLE_NUMBER:
        return whole_number(
            value,
            field,
            minimum=spec.minimum or 0,
            maximum=spec.maximum,
            allow_text=from_connection,
            allow_decimal_point=from_connection,
        )
    if spec.kind == SECONDS:
        return seconds(value, field, allow_text=from_connection)
    words = CONNECTION_BOOLEAN_WORDS if from_connection else {}
    if spec.kind == BOOLEAN:
        return parse_bool(value, field, words=words)
    if spec.kind == BOOLEAN_OR_PATH:
        if isinstance(value, str) and value.strip().lower() not in words:
            return value.strip()  # the path of a CA bundle
        if isinstance(value, bool | str):
            return parse_bool(value, field, words=words)
        raise KoreAIValidationError(
            field, f"must be true, false or the path of a CA bundle, got {describe(value)}"
        )
    if not isinstance(value, str):
        raise KoreAIValidationError(field, f"must be a string, got {type(value).__name__}")
    return value.strip() or None


def _hook_setting(name: str) -> Callable[[Any, str], Any]:
    """The rule of a hook argument that overrides the connection extra ``name``: the same kind and limits,
    the Python type only; ``None`` leaves the extra in charge."""
    return lambda value, field: extra(name, value, field, from_connection=False)


#: The hook's tuning arguments (``KoreAIHook(**hook_params)``), each with its rule.
HOOK_PARAMS: dict[str, Callable[[Any, str], Any]] = {
    "timeout": _hook_setting("timeout"),
    "retry_timeout": _hook_setting("retry_timeout"),
    "max_attempts": _hook_setting("max_attempts"),
    "backoff_initial": seconds,
    "backoff_max": seconds,
}


def hook_params(value: Any, field: str = "hook_params") -> dict[str, Any]:
    """Keyword arguments for :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`, checked: the one
    rule for the hook's arguments, wherever they arrive (an operator or sensor when the DAG is parsed,
    the hook's constructor). Returns them checked (durations as ``float``); ``None`` gives ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KoreAIValidationError(field, f"must be a dict of KoreAIHook arguments, got {describe(value)}")
    unknown = sorted(set(value) - set(HOOK_PARAMS), key=str)
    if unknown:
        raise KoreAIValidationError(
            field, f"has unknown keys {unknown}; KoreAIHook takes {', '.join(sorted(HOOK_PARAMS))}"
        )
    return {key: HOOK_PARAMS[key](item, f"{field}[{key!r}]") for key, item in value.items()}


# -- several arguments at once: a task's arguments when the DAG is parsed, and again when it runs ----------

#: What opens a template in Jinja's default syntax (``{{ ... }}``, ``{% ... %}``, ``{# ... #}``).
TEMPLATE_MARKERS: tuple[str, ...] = ("{{", "{%", "{#")
_JINJA_MARKER_OPTIONS = (
    ("variable_start_string", "{{"),
    ("block_start_string", "{%"),
    ("comment_start_string", "{#"),
    ("line_statement_prefix", None),
    ("line_comment_prefix", None),
)
_NEWLINE = re.compile(r"(\r\n|\r|\n)")


def is_literal(value: Any, markers: Sequence[str] = TEMPLATE_MARKERS) -> bool:
    """Whether ``value``, given to a templated argument, is known when the DAG is parsed, so that it can
    be checked then: text without a template (none of ``markers``), numbers, booleans, ``None``, bytes,
    paths without a template, and lists, tuples, sets and dicts (their values: Airflow renders no key)
    of those.

    Anything else is resolved or rendered by Airflow when the task runs (an ``XComArg``, a mapped task
    group's ``MappedArgument``, a ``LiteralValue``, an ``ObjectStoragePath``, an object with template
    fields of its own...) and is checked then, like a template.
    """
    if isinstance(value, str):
        return not any(marker in value for marker in markers)
    if value is None or isinstance(value, bool | int | float | bytes):
        return True
    if isinstance(value, dict):
        return all(is_literal(item, markers) for item in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return all(is_literal(item, markers) for item in value)
    if isinstance(value, os.PathLike):
        return is_literal(str(value), markers)
    return False


class TemplateRendering:
    """How a DAG renders its tasks' templated arguments, so that a literal one is checked when the DAG
    is parsed as the task will receive it.

    Airflow renders every string of a templated argument with Jinja, template or not; Jinja normalizes
    its line breaks and drops one trailing line break, and a DAG with ``render_template_as_native_obj``
    turns text that spells a Python literal into that value (``"12"`` into ``12``).

    :param jinja_environment_kwargs: the DAG's (its delimiters, ``keep_trailing_newline``...).
    :param native: the DAG's ``render_template_as_native_obj``.
    """

    def __init__(self, jinja_environment_kwargs: Mapping[str, Any] | None = None, *, native: bool = False):
        options = jinja_environment_kwargs or {}
        found = (options.get(option, default) for option, default in _JINJA_MARKER_OPTIONS)
        #: What opens a template: the DAG's own delimiters and line prefixes, else Jinja's.
        self.markers = tuple(marker for marker in found if isinstance(marker, str) and marker)
        self.keep_trailing_newline = bool(options.get("keep_trailing_newline", False))
        self.newline_sequence = str(options.get("newline_sequence", "\n"))
        self.native = native

    @classmethod
    def of(cls, dag: Any) -> TemplateRendering:
        """The rendering of ``dag`` (a DAG, or ``None`` for a task outside any DAG: Jinja's defaults)."""
        if dag is None:
            return cls()
        return cls(
            getattr(dag, "jinja_environment_kwargs", None),
            native=bool(getattr(dag, "render_template_as_native_obj", False)),
        )

    def is_literal(self, value: Any) -> bool:
        """:func:`is_literal` with this DAG's delimiters."""
        return is_literal(value, self.markers)

    def rendered(self, value: Any) -> Any:
        """A literal as the task receives it once rendered (text changes; other values do not)."""
        if not isinstance(value, str):
            return value
        text = value
        if "\r" in text or "\n" in text:
            lines = _NEWLINE.split(text)[::2]
            if not self.keep_trailing_newline and lines[-1] == "":
                del lines[-1]
            text = self.newline_sequence.join(lines)
        if self.native:
            from jinja2.nativetypes import native_concat

            return native_concat([text])
        return text


class Refusals:
    """A collector of refusals: run several rules, then raise every refusal at once.

    ::

        refusals = Refusals()
        name = refusals.check(contact_list_name, value, "name")
        flag = refusals.check(parse_bool, other, "allow_duplicates")
        refusals.raise_all(task_id)  # one KoreAIInvalidArgumentsError naming both, if both are bad
    """

    def __init__(self) -> None:
        self.problems: list[KoreAIValidationError] = []

    def __bool__(self) -> bool:
        return bool(self.problems)

    def check(self, rule: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``rule(*args, **kwargs)``; its refusal (or refusals) kept instead of raised, and ``None``
        returned for it."""
        try:
            return rule(*args, **kwargs)
        except KoreAIInvalidArgumentsError as error:
            self.problems.extend(error.problems)
        except KoreAIValidationError as error:
            self.problems.append(error)
        return None

    def add(self, field: str, problem: str) -> None:
        """A refusal found by the caller (a rule between two arguments)."""
        self.problems.append(KoreAIValidationError(field, problem))

    def raise_all(self, task_id: str | None = None) -> None:
        """Raise :class:`KoreAIInvalidArgumentsError` with every refusal kept, if there is any."""
        if self.problems:
            raise KoreAIInvalidArgumentsError(self.problems, task_id=task_id)
