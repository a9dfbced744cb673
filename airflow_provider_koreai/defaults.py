"""Default values that DAG files see: in a module of their own, with no imports.

The DAG processor imports our operators and sensor on every parse of every DAG file that uses them, and
their signatures need these values at class-definition time. Keeping them here lets those modules load
without the hook, the HTTP stack or the contact-file reader, which only a running task needs.
"""

from __future__ import annotations

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
