"""Operators for Kore.ai campaign contact lists.

The DAG processor imports this module on every parse of every DAG file that uses it, so it imports
only Airflow's base classes and our light modules; the HTTP stack loads when a task actually runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_koreai import validation
from airflow_provider_koreai.exceptions import KoreAIError
from airflow_provider_koreai.hooks.koreai import DEFAULT_SOURCE, KoreAIHook

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

KOREAI_UI_COLOR = "#e3f0ff"


def _fail_permanently(error: KoreAIError) -> Exception:
    """Errors a task retry cannot fix (bad input, credentials, unknown list) fail the task for good."""
    if error.retryable:
        return error
    return AirflowFailException(str(error))


class UpdateContactListOperator(BaseOperator):
    """Update a Kore.ai contact list's name, description, source and duplicate policy.

    Typically placed right after the task that loads the customer data behind the list, with the name
    and description templated from that task's XCom.

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param name: new list name, 1 to 48 characters. Templated.
    :param allow_duplicates: whether the list accepts duplicate contacts: a bool, or ``"true"``/``"false"``
        in any case (what a Jinja template renders). Templated.
    :param description: new description, at most 256 characters; ``None`` leaves it out of the request.
        Templated.
    :param source: ingestion source; ``passiveApiIntegration`` for API-fed lists. Templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.

    XCom: key ``contact_list_id`` (the id Kore.ai returned), key ``body`` (the list as Kore.ai returned
    it) and, as ``return_value``, the whole ``data`` object.
    """

    template_fields: Sequence[str] = (
        "contact_list_id",
        "name",
        "description",
        "allow_duplicates",
        "source",
        "koreai_conn_id",
    )
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_id: str,
        name: str,
        allow_duplicates: bool | str,
        description: str | None = None,
        source: str = DEFAULT_SOURCE,
        koreai_conn_id: str = KoreAIHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.name = name
        self.allow_duplicates = allow_duplicates
        self.description = description
        self.source = source
        self.koreai_conn_id = koreai_conn_id

    def get_hook(self) -> KoreAIHook:
        """A hook per execution: nothing (connection, session, token) outlives the task try."""
        return KoreAIHook(koreai_conn_id=self.koreai_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            allow_duplicates = validation.parse_bool(self.allow_duplicates, "allow_duplicates")
            data = self.get_hook().update_contact_list(
                self.contact_list_id,
                name=self.name,
                allow_duplicates=allow_duplicates,
                source=self.source,
                description=self.description,
            )
        except KoreAIError as error:
            raise _fail_permanently(error) from error

        ti = context["ti"]
        ti.xcom_push(key="contact_list_id", value=data["contactListId"])
        ti.xcom_push(key="body", value=data.get("body"))
        return data
