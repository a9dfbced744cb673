"""Argument checks: one function per rule, used by the operators, the sensor, the hook and the trigger.

They run before anything is sent, so a bad value never reaches Kore.ai, and every refusal is a
:class:`~airflow_provider_koreai.exceptions.KoreAIValidationError` (a ``ValueError``) that names the
argument the DAG author wrote and what it must be. Kept free of heavy imports: operator modules load it
at DAG parse time.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_koreai.exceptions import KoreAIValidationError

#: Kore.ai's documented limits for contact lists.
MAX_NAME_LENGTH = 48
MAX_DESCRIPTION_LENGTH = 256
#: Not documented by Kore.ai; real ids are about 40 characters. A generous bound keeps URLs sane.
MAX_ID_LENGTH = 256

_TRUE = "true"
_FALSE = "false"


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


def whole_number(
    value: Any, field: str, *, minimum: int = 0, maximum: int | None = None, allow_text: bool = True
) -> int:
    """A whole number from ``minimum`` to ``maximum``: an ``int`` or, with ``allow_text``, its ASCII
    digits as a Jinja template renders them (``"12"``; never ``"1.5"``, ``"²"`` or ``"-1"``)."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif allow_text and isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = None
    bounds = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if number is None:
        digits = " (or its digits as a string)" if allow_text else ""
        raise KoreAIValidationError(field, f"must be a whole number {bounds}{digits}, got {describe(value)}")
    if number < minimum or (maximum is not None and number > maximum):
        raise KoreAIValidationError(field, f"must be a whole number {bounds}, got {number}")
    return number


def optional_whole_number(value: Any, field: str, *, minimum: int = 0, allow_text: bool = True) -> int | None:
    """``None``, or a whole number as :func:`whole_number` takes it."""
    return None if value is None else whole_number(value, field, minimum=minimum, allow_text=allow_text)


def record_count(value: Any, field: str) -> int:
    """A whole number of contacts, at least 0: an ``int``, or its ASCII digits as a template renders them."""
    return whole_number(value, field)


def settle_polls(value: Any, field: str = "settle_polls") -> int:
    """How many unchanged reads end a wait short of its target: a whole number of at least 1."""
    return whole_number(value, field, minimum=1)


def seconds(value: Any, field: str) -> float:
    """A duration in seconds above 0 (an ``int`` or a ``float``, never a bool or text)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise KoreAIValidationError(field, f"must be a number of seconds above 0, got {describe(value)}")
    return float(value)


def optional_seconds(value: Any, field: str) -> float | None:
    return None if value is None else seconds(value, field)


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


#: The hook's tuning arguments (``KoreAIHook(**hook_params)``), each with its rule.
HOOK_PARAMS: dict[str, Any] = {
    "timeout": optional_seconds,
    "retry_timeout": optional_seconds,
    "max_attempts": lambda value, field: optional_whole_number(value, field, minimum=1, allow_text=False),
    "backoff_initial": seconds,
    "backoff_max": seconds,
}


def hook_params(value: Any, field: str = "hook_params") -> dict[str, Any]:
    """Keyword arguments for :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`, checked when the
    DAG is parsed rather than when the task first builds its hook."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KoreAIValidationError(field, f"must be a dict of KoreAIHook arguments, got {describe(value)}")
    unknown = sorted(set(value) - set(HOOK_PARAMS), key=str)
    if unknown:
        raise KoreAIValidationError(
            field, f"has unknown keys {unknown}; KoreAIHook takes {', '.join(sorted(HOOK_PARAMS))}"
        )
    for key, item in value.items():
        HOOK_PARAMS[key](item, f"{field}[{key!r}]")
    return dict(value)


def strict_bool(value: Any, field: str) -> bool:
    """A real boolean, as the hook sends it to Kore.ai as a JSON boolean."""
    if not isinstance(value, bool):
        raise KoreAIValidationError(
            field, f"must be True or False, got {type(value).__name__} {describe(value)}"
        )
    return value


def parse_bool(value: Any, field: str) -> bool:
    """A boolean, or the strings ``true``/``false`` in any case, as a Jinja template renders them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == _TRUE:
            return True
        if lowered == _FALSE:
            return False
    raise KoreAIValidationError(
        field, f"must be a boolean or the string 'true'/'false' (any case), got {describe(value)}"
    )
