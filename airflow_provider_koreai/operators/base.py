"""What every Kore.ai task shares: its hook, its connection argument, its colour, its failure rule.

The failure rule: an error that a task retry cannot fix (bad input, refused credentials, an unknown
list, an upload that already changed the list) fails the task for good, through Airflow's
``AirflowFailException``, instead of burning the task's retries; an error that may pass by itself (rate
limit, server error, dropped connection) is raised as it is, so Airflow retries the task as configured.
:attr:`~airflow_provider_koreai.exceptions.KoreAIError.retryable` decides.

The DAG processor imports this module on every parse: it loads only Airflow's base classes and our
dependency-free modules; the hook loads when a task first uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID, KOREAI_UI_COLOR
from airflow_provider_koreai.exceptions import KoreAIError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_koreai.hooks.koreai import KoreAIHook


def raise_for_task(error: KoreAIError) -> NoReturn:
    """Raise what a task raises for ``error``: itself when a task retry may help, else
    ``AirflowFailException`` (which Airflow does not retry). Call it in the ``except`` block."""
    if error.retryable:
        raise error
    raise AirflowFailException(str(error)) from error


class KoreAIHookMixin:
    """The task's hook: built on first use from ``koreai_conn_id`` and ``hook_params``, one per task try
    (nothing, neither the connection, the session nor a token, outlives the try)."""

    koreai_conn_id: str
    hook_params: dict[str, Any]

    @cached_property
    def hook(self) -> KoreAIHook:
        from airflow_provider_koreai.hooks.koreai import KoreAIHook

        return KoreAIHook(koreai_conn_id=self.koreai_conn_id, **self.hook_params)


class KoreAIBaseOperator(KoreAIHookMixin, BaseOperator):
    """Base of the Kore.ai operators.

    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: keyword arguments of :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`
        (``timeout``, ``max_attempts``, ``retry_timeout``, ``backoff_initial``, ``backoff_max``), checked
        when the DAG is parsed.

    Subclasses implement :meth:`execute_with_hook`; :meth:`execute` applies the failure rule to it.
    Give a task ``outlets=[AssetAlias(...)]`` to record the lists it changes as ``koreai://`` asset events
    (:meth:`record_contact_list_change`).
    """

    template_fields: Sequence[str] = ("koreai_conn_id",)
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.koreai_conn_id = koreai_conn_id
        self.hook_params = validation.hook_params(hook_params)
        #: The lists this try changed, as (asset URI, event extra): its OpenLineage outputs.
        self.changed_lists: list[tuple[str, dict[str, Any]]] = []

    def execute(self, context: Context) -> Any:
        self.changed_lists = []
        try:
            return self.execute_with_hook(context, self.hook)
        except KoreAIError as error:
            raise_for_task(error)

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> Any:
        raise NotImplementedError

    def record_contact_list_change(
        self, context: Context, hook: KoreAIHook, contact_list_id: str, **extra: Any
    ) -> None:
        """Tell Airflow's asset scheduling that this task changed a list.

        A list's id is often known only at run time, so the asset cannot always be declared when the DAG
        is parsed: for every ``AssetAlias`` among the task's outlets, an event is added for the list's
        ``koreai://`` asset (:mod:`~airflow_provider_koreai.assets`); a declared ``koreai://`` outlet for
        the same list gets ``extra`` on the event Airflow records for it. ``extra`` holds ids and counts,
        never contact data.
        """
        uri = hook.contact_list_asset_uri(contact_list_id)
        self.changed_lists.append((uri, extra))
        if not self.outlets:
            return
        from airflow.providers.common.compat.sdk import Asset, AssetAlias

        events = context["outlet_events"]
        for outlet in self.outlets:
            if isinstance(outlet, AssetAlias):
                events[outlet].add(Asset(uri), extra=extra)
            elif isinstance(outlet, Asset) and outlet.uri == uri:
                events[outlet].extra.update(extra)

    # -- OpenLineage (apache-airflow-providers-openlineage, optional: imported only when it calls) ---------

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The lists this task changed as outputs (namespace ``koreai://<host>``, name
        ``<iid>/contact-lists/<id>``; rows sent, created or dropped), and what it read as inputs."""
        from airflow.providers.common.compat.openlineage.facet import (
            LifecycleStateChange,
            LifecycleStateChangeDatasetFacet,
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_koreai import assets

        lifecycle = {"create": LifecycleStateChange.CREATE, "delete": LifecycleStateChange.DROP}
        outputs = []
        for uri, extra in self.changed_lists:
            namespace, name = assets.openlineage_names(uri)
            facets: dict[str, Any] = {}
            if extra.get("operation") in lifecycle:
                facets["lifecycleStateChange"] = LifecycleStateChangeDatasetFacet(
                    lifecycleStateChange=lifecycle[extra["operation"]]
                )
            output_facets: dict[str, Any] = {}
            if isinstance(extra.get("rows_sent"), int):
                output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
                    rowCount=extra["rows_sent"]
                )
            outputs.append(
                OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)
            )
        return OperatorLineage(inputs=self.openlineage_inputs(), outputs=outputs)

    def openlineage_inputs(self) -> list[Any]:
        """The datasets the task read (none for most operators)."""
        return []
