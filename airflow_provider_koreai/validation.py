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

pydantic is not used: its lax booleans take ``on``/``off``/``t``/``f``/``y``/``n`` and the integers 0
and 1, wider than either side here, and its messages would need translating to ours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_koreai.defaults import (
    BOOLEAN,
    BOOLEAN_OR_PATH,
    CONNECTION_EXTRAS,
    SECONDS,
    WHOLE_NUMBER,
)
from airflow_provider_koreai.exceptions import KoreAIValidationError

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
