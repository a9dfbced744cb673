"""Kore.ai's endpoints as data: what each call sends, and how its failures are to be treated.

An endpoint is a small pure function that returns a :class:`Call`: method, path, query, body, whether it
is safe to send twice, and the hint for a 404. The hook's one request pipeline
(:mod:`~airflow_provider_koreai.pipeline`) runs any call, from the worker or the triggerer; these modules
send nothing and import nothing heavy, so they are tested without HTTP.

* :mod:`~airflow_provider_koreai.api.contact_lists`: the contact-list calls.
* :mod:`~airflow_provider_koreai.api.campaigns`: the campaign calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_koreai.responses import NOT_FOUND_HINT


@dataclass(frozen=True)
class Call:
    """One request to Kore.ai, described but not sent.

    :param method: the HTTP method.
    :param path: the URL path, its variable segments already percent-encoded.
    :param params: the query string.
    :param json: the JSON body, if any.
    :param idempotent: whether sending the request twice is harmless. When it is not, a request that may
        have reached Kore.ai (read timeout, dropped connection, 5xx) is never sent again by the pipeline.
    :param not_found_hint: what to check when Kore.ai answers 404.
    :param not_found: what a 404 means, the start of its message (``"Contact list cl-x not found"``).
    :param enveloped: the answer's top-level ``status`` is Kore.ai's ``success``/``failure`` envelope;
        ``False`` where it is the campaign's status instead (start and stop answer ``"status": "Active"``).
    """

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    idempotent: bool = True
    not_found_hint: str = NOT_FOUND_HINT
    not_found: str = "Not found"
    enveloped: bool = True

    @property
    def endpoint(self) -> str:
        """``"METHOD /path"``: how messages name the call (no host, no query, never a token)."""
        return f"{self.method} {self.path}"
