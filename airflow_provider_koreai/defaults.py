"""Default values and limits, each stated once: in a module of its own, that imports only ``typing``.

The DAG processor imports our operators and sensor on every parse of every DAG file that uses them, and
their signatures need these values at class-definition time. Keeping them here lets those modules load
without the hook, the HTTP stack or the contact-file reader, which only a running task needs. The
connection's extras are described once, in :data:`CONNECTION_EXTRAS`: the connection reader, the form
(``conn-fields`` and the legacy widgets) and the hook's ``hook_params`` all take their kind, default and
limits from there.
"""

from __future__ import annotations

from typing import NamedTuple

#: The connection id used when a DAG names none (``KoreAIHook.default_conn_name``).
DEFAULT_CONN_ID = "koreai_default"
#: Kore.ai's ingestion source for lists fed through the public API.
DEFAULT_SOURCE = "passiveApiIntegration"
#: Contacts per ``addContacts`` request.
DEFAULT_CHUNK_SIZE = 1000
#: The colour of our tasks in Airflow's graph view.
KOREAI_UI_COLOR = "#e3f0ff"
#: What ``CreateContactListOperator`` / ``KoreAIHook.ensure_contact_list`` do when the name is taken.
IF_EXISTS_MODES = ("skip", "update", "fail")
#: The contact-file formats ``AddContactsOperator`` reads (``file_format``).
FILE_FORMATS = ("csv", "jsonl")
#: Kore.ai's campaign types (``campaignType``).
CAMPAIGN_TYPES = ("voice", "sms")
#: Every campaign status Kore.ai documents (the ``filters.status`` enum of Get All Campaigns).
CAMPAIGN_STATUSES = (
    "Preparing",
    "Ready",
    "Active",
    "Paused",
    "Completed",
    "Stopped",
    "Scheduled",
    "Rescheduled",
)
#: Largest page of Get All Contact Details (``view=contacts``), as documented; also our page of campaigns.
MAX_CAMPAIGN_PAGE_SIZE = 100
#: ``AddContactsOperator``'s own cap on its pace: none, the account's budget (below) paces every request.
DEFAULT_REQUESTS_PER_MINUTE: int | None = None

# -- the connection's extras: defaults and limits, shared by the connection reader and the form --------

#: Read timeout of every request.
DEFAULT_TIMEOUT_SECONDS = 30.0
#: Time to open a connection (never more than the read timeout).
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
#: Attempts per request, the first one included.
DEFAULT_MAX_ATTEMPTS = 5
MAX_MAX_ATTEMPTS = 20
#: Total time one call may take, retries and waits included.
DEFAULT_RETRY_TIMEOUT_SECONDS = 120.0
#: Kore.ai rejects tokens that live longer than an hour when "Enforce JTI" is on.
MAX_JWT_TTL_SECONDS = 3600
DEFAULT_JWT_TTL_SECONDS = 300

# -- the account's request budget (rate_limit.py) -----------------------------------------------------

#: Kore.ai allows 60 requests per minute per account, across all Contact Center APIs.
DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE = 60
MAX_ACCOUNT_REQUESTS_PER_MINUTE = 100_000
#: The percentage of the account's limit this deployment takes; the rest is left to other clients.
DEFAULT_RATE_LIMIT_SHARE = 90

# -- every extra of the connection, with its kind, default and limits ---------------------------------

#: Kinds of extras: each is one rule of :mod:`airflow_provider_koreai.validation`, and one JSON type of
#: the form.
TEXT = "text"
BOOLEAN = "boolean"
#: ``true``/``false`` (any spelling :data:`~airflow_provider_koreai.validation.CONNECTION_BOOLEAN_WORDS`
#: knows), or any other text: the path of a CA bundle.
BOOLEAN_OR_PATH = "boolean or path"
#: A whole number from ``minimum`` to ``maximum``.
WHOLE_NUMBER = "whole number"
#: A duration in seconds, above 0 and finite (fractions allowed): no ``minimum`` to state.
SECONDS = "seconds"


class Extra(NamedTuple):
    """One extra of the ``koreai`` connection: what it holds, its default when empty, its limits."""

    kind: str
    default: float | str | bool | None = None
    minimum: int | None = None
    maximum: int | None = None


CONNECTION_EXTRAS: dict[str, Extra] = {
    "iid": Extra(TEXT),
    "account_id": Extra(TEXT),
    "timeout": Extra(SECONDS, DEFAULT_TIMEOUT_SECONDS),
    "connect_timeout": Extra(SECONDS, DEFAULT_CONNECT_TIMEOUT_SECONDS),
    "max_attempts": Extra(WHOLE_NUMBER, DEFAULT_MAX_ATTEMPTS, 1, MAX_MAX_ATTEMPTS),
    "retry_timeout": Extra(SECONDS, DEFAULT_RETRY_TIMEOUT_SECONDS),
    "jwt_ttl": Extra(WHOLE_NUMBER, DEFAULT_JWT_TTL_SECONDS, 1, MAX_JWT_TTL_SECONDS),
    "enforce_jti": Extra(BOOLEAN, True),
    "verify": Extra(BOOLEAN_OR_PATH, "true"),
    "rate_limit_per_minute": Extra(
        WHOLE_NUMBER, DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE, 0, MAX_ACCOUNT_REQUESTS_PER_MINUTE
    ),
    "rate_limit_share": Extra(WHOLE_NUMBER, DEFAULT_RATE_LIMIT_SHARE, 1, 100),
    "rate_limit_store": Extra(TEXT),
}
