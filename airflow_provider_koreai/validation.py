"""Argument checks shared by the hook and the operators.

They run before anything is sent, so a bad value never reaches Kore.ai and the error names the
argument the DAG author wrote. Kept free of heavy imports: operator modules load it at DAG parse time.
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


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def require_text(field: str, value: Any, *, max_length: int, allow_newlines: bool = False) -> str:
    """A non-blank string of at most ``max_length`` characters without control characters."""
    if not isinstance(value, str):
        raise KoreAIValidationError(field, f"must be a string, got {type(value).__name__} {_describe(value)}")
    if not value.strip():
        raise KoreAIValidationError(field, "must not be empty or blank")
    return check_text_length(field, value, max_length=max_length, allow_newlines=allow_newlines)


def optional_text(field: str, value: Any, *, max_length: int, allow_newlines: bool = False) -> str | None:
    """``None`` or a string of at most ``max_length`` characters (may be empty)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise KoreAIValidationError(
            field, f"must be a string or None, got {type(value).__name__} {_describe(value)}"
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
        raise KoreAIValidationError(field, f"must be a string, got {type(value).__name__} {_describe(value)}")
    if not value:
        raise KoreAIValidationError(field, "must not be empty; pass the id of the list, e.g. 'cl-...'")
    if len(value) > MAX_ID_LENGTH:
        raise KoreAIValidationError(field, f"is {len(value)} characters long; at most {MAX_ID_LENGTH}")
    if "/" in value or "\\" in value:
        raise KoreAIValidationError(
            field, f"must be a bare id such as 'cl-...', not a path: {_describe(value)}"
        )
    if ".." in value or value == ".":
        raise KoreAIValidationError(field, f"must not contain '..' or be '.': {_describe(value)}")
    if (" " in value or not value.isprintable()) and (
        any(char.isspace() for char in value) or _has_control_characters(value)
    ):
        raise KoreAIValidationError(
            field, f"must not contain whitespace or control characters: {_describe(value)}"
        )
    return value


def source(value: Any, field: str = "source") -> str:
    return require_text(field, value, max_length=MAX_NAME_LENGTH)


def record_count(value: Any, field: str) -> int:
    """A whole number of contacts, at least 0: an ``int``, or its ASCII digits as a template renders them."""
    if isinstance(value, bool):
        raise KoreAIValidationError(field, f"must be a whole number of at least 0, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise KoreAIValidationError(
            field, f"must be a whole number of at least 0 (or its digits as a string), got {_describe(value)}"
        )
    if number < 0:
        raise KoreAIValidationError(field, f"must be at least 0, got {number}")
    return number


def settle_polls(value: Any, field: str = "settle_polls") -> int:
    """How many unchanged reads end a wait short of its target: a whole number of at least 1."""
    number = record_count(value, field)
    if number < 1:
        raise KoreAIValidationError(field, f"must be at least 1 (or None to never settle), got {number}")
    return number


def strict_bool(value: Any, field: str) -> bool:
    """A real boolean, as the hook sends it to Kore.ai as a JSON boolean."""
    if not isinstance(value, bool):
        raise KoreAIValidationError(
            field, f"must be True or False, got {type(value).__name__} {_describe(value)}"
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
        field, f"must be a boolean or the string 'true'/'false' (any case), got {_describe(value)}"
    )
