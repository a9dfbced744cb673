"""Errors raised by the Kore.ai provider.

One small hierarchy so that callers can tell apart what they must fix (bad arguments, a misconfigured
connection, credentials Kore.ai refuses, an unknown list) from what may pass by itself (rate limit,
server errors, a dropped connection).

Three properties, one meaning each, say what may be done about an error (the docs' "Errors and retries"
page has the table):

* :attr:`KoreAIError.retry_within_call`: the hook sends the request again within the same call, while
  its ``retry_timeout`` lasts, if that is safe (see ``outcome_unknown``);
* :attr:`KoreAIError.outcome_unknown`: the request may have reached Kore.ai and been applied, so a write
  that is not safe to repeat is never sent again blindly;
* :attr:`KoreAIError.retryable`: an Airflow task retry may help without anybody changing anything;
  otherwise the operators fail the task for good (``AirflowFailException``).

Every message names what failed and what to do about it, and never contains the client secret or a
token: errors carry the HTTP method and path (tokens never travel in URLs), Kore.ai's own message and
code, and nothing from the request headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class KoreAIError(AirflowException):
    """Base class of every error this provider raises."""

    #: An Airflow task retry may help, without anybody changing anything.
    retryable: bool = False
    #: The hook sends the request again within the same call (and its ``retry_timeout``), unless the
    #: request is not safe to repeat and :attr:`outcome_unknown` is true.
    retry_within_call: bool = False
    #: The request may have reached Kore.ai and been applied: the change may or may not have been made.
    outcome_unknown: bool = False

    @property
    def reason(self) -> str:
        """The cause in a few words, as a retry warning names it (``HTTP 503``, ``connection refused``)."""
        return type(self).__name__


class KoreAIConfigurationError(KoreAIError):
    """The Airflow connection cannot be used as it is: a field is missing or malformed."""


class KoreAIValidationError(KoreAIError, ValueError):
    """An argument was refused before any request was sent.

    ``field`` names the offending argument so that a DAG author can find it in their DAG.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"Invalid {field!r}: {problem}")


class KoreAIInvalidArgumentsError(KoreAIValidationError, AirflowFailException):
    """Every argument of a task that was refused, at once, each named with its fix.

    Raised by a Kore.ai operator's or sensor's constructor, so that the DAG shows one import error
    listing every literal mistake, and when the task runs, for the values templates rendered, before any
    request. It is a ``KoreAIValidationError`` whose :attr:`field` and :attr:`problem` are the first
    refusal's; :attr:`problems` holds them all, :attr:`fields` their arguments. It is also an
    ``AirflowFailException``: raised while a mapped task is built from its expanded values, it fails
    the task for good, as no task retry can fix an argument.

    :param problems: the refusals, in the order of the arguments.
    :param task_id: the task whose arguments they are, named in the message.
    """

    def __init__(self, problems: Sequence[KoreAIValidationError], *, task_id: str | None = None) -> None:
        if not problems:
            raise ValueError("KoreAIInvalidArgumentsError needs at least one refusal")
        self.problems: tuple[KoreAIValidationError, ...] = tuple(problems)
        self.task_id = task_id
        first = self.problems[0]
        super().__init__(first.field, first.problem)
        if len(self.problems) == 1:
            text = f"{first} (task {task_id!r})" if task_id else str(first)
        else:
            task = f" of task {task_id!r}" if task_id else ""
            fields = ", ".join(repr(field) for field in self.fields)
            text = f"{len(self.problems)} invalid arguments{task} ({fields}); fix each:" + "".join(
                f"\n- {problem}" for problem in self.problems
            )
        self.args = (text,)

    @property
    def fields(self) -> tuple[str, ...]:
        """The refused arguments, in order."""
        return tuple(problem.field for problem in self.problems)


def short_endpoint(endpoint: str) -> str:
    """``"PUT .../contactList/cl-x"``: the method and the last two segments of the path, as the end of a
    message names the call (Airflow's log view does not wrap: what matters comes first)."""
    method, _, path = endpoint.partition(" ")
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) <= 2:
        return endpoint
    return f"{method} .../{'/'.join(segments[-2:])}"


class KoreAIAPIError(KoreAIError):
    """Kore.ai answered, and the answer is an error.

    The message reads: what is wrong, what to do, then where (``(HTTP 404, PUT .../contactList/cl-x)``)
    and what Kore.ai said.

    :param http_status: the HTTP status of the response.
    :param endpoint: ``"METHOD /path"`` of the call (no host, no query, never a token).
    :param message: Kore.ai's own message (``errors[].msg`` or ``message``), or a short excerpt of a
        body that was not Kore.ai's JSON.
    :param code: Kore.ai's error code (``errors[].code``) when it sent one.
    :param hint: what the user can do about it, right after what is wrong.
    :param summary: what is wrong, in a few words; default: the class's :attr:`summary`.
    """

    #: What is wrong, in a few words: the start of the message.
    summary = "Kore.ai refused the request"
    #: What stands between the call and ``message`` at the end: Kore.ai's own words, by default.
    detail_prefix = ". Kore.ai said: "

    def __init__(
        self,
        *,
        http_status: int,
        endpoint: str,
        message: str,
        code: int | str | None = None,
        hint: str | None = None,
        summary: str | None = None,
    ) -> None:
        self.http_status = http_status
        self.endpoint = endpoint
        self.kore_message = message
        self.code = code
        self.hint = hint
        if summary is not None:
            self.summary = summary
        where = f"HTTP {http_status}" + (f", code {code}" if code is not None else "")
        text = self.summary + (f": {hint}" if hint else "") + f" ({where}, {short_endpoint(endpoint)})"
        if message:
            text += f"{self.detail_prefix}{message}"
        super().__init__(text)

    @property
    def reason(self) -> str:
        return f"HTTP {self.http_status} from Kore.ai"


class KoreAIAuthenticationError(KoreAIAPIError):
    """401/403: the token, the credentials, the ``iid``/``accountId`` headers or the scope were refused."""

    summary = "Kore.ai refused the credentials"


class KoreAINotFoundError(KoreAIAPIError):
    """404: the contact list (or the route) does not exist for this application."""

    summary = "Not found"


class KoreAIRequestRejectedError(KoreAIAPIError):
    """Another 4xx (400, 405, 409, 412...): Kore.ai refused the request as sent."""

    summary = "Kore.ai refused the request as sent"


class KoreAIRateLimitedError(KoreAIAPIError):
    """429: the account's per-minute budget is used up. ``retry_after`` is Kore.ai's hint, in seconds.
    Nothing was applied; the hook waits and sends again while the call's ``retry_timeout`` lasts."""

    summary = "Kore.ai's rate limit was reached"
    retryable = True
    retry_within_call = True

    def __init__(
        self,
        *,
        http_status: int,
        endpoint: str,
        message: str,
        code: int | str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        summary: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            http_status=http_status, endpoint=endpoint, message=message, code=code, hint=hint, summary=summary
        )


class KoreAIServerError(KoreAIAPIError):
    """5xx: Kore.ai (or a proxy in front of it) failed. It may have applied the request before failing,
    so only a request that is safe to repeat is sent again within the call."""

    summary = "Kore.ai failed with a server error"
    retryable = True
    retry_within_call = True
    outcome_unknown = True


class KoreAIUnexpectedResponseError(KoreAIAPIError):
    """A response that is not what the contract promises: not JSON, wrong shape, a redirect, or a
    ``"status"`` other than ``"success"``."""

    summary = "Kore.ai's answer is not what its API documents"
    detail_prefix = ": "


class KoreAITransportError(KoreAIError):
    """No usable response arrived: connection refused, dropped or timed out, TLS refused.

    :param outcome_unknown: the request may have reached Kore.ai (read timeout, connection dropped after
        sending): the change may or may not have been applied.
    :param retry_within_call: whether sending again within the call can help (not after a TLS failure, a
        host name that does not resolve, or a request that could not be built).
    :param retryable: whether an Airflow task retry can help.
    :param reason: the cause in a few words (``connection refused``, ``name not resolved``).
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        outcome_unknown: bool,
        retry_within_call: bool = True,
        retryable: bool = True,
        reason: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.outcome_unknown = outcome_unknown
        self.retry_within_call = retry_within_call
        self.retryable = retryable
        self._reason = reason
        super().__init__(message)

    @property
    def reason(self) -> str:
        return self._reason or type(self).__name__


class KoreAIRateBudgetTimeoutError(KoreAITransportError):
    """The account's request budget (:mod:`~airflow_provider_koreai.rate_limit`) had no free slot within
    the call's ``retry_timeout``: the request was not sent. Waiting longer within the call is what the
    budget forbids, so the call ends; a later task try may find the budget free."""

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            outcome_unknown=False,
            retry_within_call=False,
            reason="no free slot in the request budget",
        )


class KoreAIContactListExistsError(KoreAIError):
    """A list of that name exists, and the caller asked to fail in that case (``if_exists="fail"``)."""

    def __init__(self, name: str, contact_list_id: str | None) -> None:
        self.name = name
        self.contact_list_id = contact_list_id
        super().__init__(
            f"Kore.ai contact list {name!r} already exists as {contact_list_id or '(no id)'} and "
            "if_exists='fail'"
        )


class KoreAICampaignExistsError(KoreAIError):
    """A campaign of that name exists, and the caller asked to fail in that case (``if_exists="fail"``)."""

    def __init__(self, name: str, campaign_id: str | None) -> None:
        self.name = name
        self.campaign_id = campaign_id
        super().__init__(
            f"Kore.ai campaign {name!r} already exists as {campaign_id or '(no id)'} and if_exists='fail': "
            "use if_exists='skip' to reuse it or 'update' to apply the definition"
        )


class KoreAICampaignStateError(KoreAIError, AirflowFailException):
    """A campaign is in a status the task must not accept: a failure status its sensor names, Active
    where the task was told to fail on it, still Preparing after the task's bound.

    It fails the task for good (``AirflowFailException``): another try would read the same status. The
    message says what is wrong and what to do first.

    :param campaign_id: the campaign.
    :param status: the status Kore.ai reported.
    :param message: the whole message.
    """

    def __init__(self, campaign_id: str, status: str, message: str) -> None:
        self.campaign_id = campaign_id
        self.status = status
        super().__init__(message)


class KoreAIPartialUploadError(KoreAIError):
    """An upload of contacts stopped part-way: what was accepted, what is in doubt, what was never sent.

    :param cause: the error of the chunk that failed (``__cause__`` too).
    :param rows_accepted: rows of the earlier chunks, all accepted by Kore.ai.
    :param chunks_accepted: how many chunks those were.
    :param rows_failed: rows of the failed chunk.
    :param outcome_unknown: whether the failed chunk may have been added all the same (a timeout after
        sending, a dropped connection, a 5xx); otherwise Kore.ai surely did not add it.
    :param source_rows: optional ``(first failed, last failed, last accepted)`` positions in the caller's
        own terms (file lines, record numbers), as :meth:`in_source` adds them.
    :param progress_kept: where the upload's progress is recorded (``"Airflow's task state store"``...),
        as :meth:`with_progress_kept` adds it; ``None``: nowhere.

    Without a progress record, only an upload that changed nothing is worth an automatic task retry: a
    retry sends every row again, which duplicates the accepted ones on a list that allows duplicates.
    With one (:mod:`airflow_provider_koreai.upload_progress`), a retry resumes after the accepted chunks,
    so any transient failure is worth a retry.
    """

    def __init__(
        self,
        *,
        contact_list_name: str,
        cause: KoreAIError,
        rows_accepted: int,
        chunks_accepted: int,
        rows_failed: int,
        outcome_unknown: bool,
        source_rows: tuple[str, str, str | None] | None = None,
        progress_kept: str | None = None,
    ) -> None:
        self.contact_list_name = contact_list_name
        self.cause = cause
        self.rows_accepted = rows_accepted
        self.chunks_accepted = chunks_accepted
        self.rows_failed = rows_failed
        self.outcome_unknown = outcome_unknown
        self.source_rows = source_rows
        self.progress_kept = progress_kept
        changed_nothing = rows_accepted == 0 and not outcome_unknown
        self.retryable = cause.retryable and (changed_nothing or progress_kept is not None)
        first, last = rows_accepted + 1, rows_accepted + rows_failed
        fate = "may or may not have been added" if outcome_unknown else "were not added"
        if source_rows is not None:
            failed_from, failed_to, accepted_through = source_rows
            failed = f"in the source, {failed_from} to {failed_to}"
            accepted = (
                f"the {rows_accepted} row(s) up to and including {accepted_through} were accepted before them"
                if rows_accepted
                else "no row was accepted before them"
            )
            unsent = f"nothing after {failed_to} was sent"
        else:
            failed = f"rows {first}-{last}"
            accepted = f"the {rows_accepted} row(s) in {chunks_accepted} chunk(s) before them were accepted"
            unsent = "nothing after them was sent"
        if progress_kept is not None and (rows_accepted or outcome_unknown):
            doubt = (
                " (the failed chunk, in doubt, is sent again if the list drops duplicates, else skipped and "
                "reported as in doubt)"
                if outcome_unknown
                else ""
            )
            advice = (
                f"{'a retry' if cause.retryable else 'once the cause is fixed, running the task again'} "
                f"resumes after the accepted chunks, recorded in {progress_kept}{doubt}"
            )
        elif rows_accepted or outcome_unknown:
            advice = (
                "compare the list's totalRecordCount before running the task again, which sends every row "
                "again (a list with allowDuplicates=false skips phone numbers it already holds)"
            )
        else:
            advice = "nothing was added, so running the task again is safe"
        super().__init__(
            f"Upload to Kore.ai list {contact_list_name!r} stopped at chunk {chunks_accepted + 1}: {advice}; "
            f"{failed} (the failed chunk) {fate}; {accepted}; {unsent}. Cause: {cause}"
        )

    def in_source(
        self, failed_from: str, failed_to: str, accepted_through: str | None
    ) -> KoreAIPartialUploadError:
        """The same error, naming the rows by their place in the caller's source (file lines...)."""
        return self._copy(source_rows=(failed_from, failed_to, accepted_through))

    def with_progress_kept(self, where: str) -> KoreAIPartialUploadError:
        """The same error, for an upload whose progress is recorded in ``where``: a retry resumes."""
        return self._copy(progress_kept=where)

    def _copy(self, **changes: Any) -> KoreAIPartialUploadError:
        arguments: dict[str, Any] = {
            "contact_list_name": self.contact_list_name,
            "cause": self.cause,
            "rows_accepted": self.rows_accepted,
            "chunks_accepted": self.chunks_accepted,
            "rows_failed": self.rows_failed,
            "outcome_unknown": self.outcome_unknown,
            "source_rows": self.source_rows,
            "progress_kept": self.progress_kept,
            **changes,
        }
        copied = type(self)(**arguments)
        copied.__cause__ = self.cause
        return copied


class KoreAIUploadLeaseError(KoreAIError):
    """Another try of the same task instance holds the upload's lease (or took it over): this try sends
    nothing more, so that two tries never upload alongside each other.

    :param message: the whole message: which try holds the lease, until when, and what to do.
    :param retryable: whether a later try may simply resume (the other try's lease will end).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        self.retryable = retryable
        super().__init__(message)
