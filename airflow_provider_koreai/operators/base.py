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

import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID, KOREAI_UI_COLOR
from airflow_provider_koreai.exceptions import KoreAIError, KoreAIInvalidArgumentsError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.sdk.definitions.mappedoperator import OperatorPartial

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


class KoreAIArgumentsMixin:
    """Every argument of a Kore.ai task checked as early as it can be, every refusal at once.

    * **When the DAG is parsed** (the constructor, :meth:`check_arguments`): each argument that is not
      templated, and each templated argument given as a literal (:func:`~airflow_provider_koreai.
      validation.is_literal`: no ``{{``/``{%``, no ``XComArg`` or anything else Airflow resolves later).
      Every refusal is named, with its fix, in one
      :class:`~airflow_provider_koreai.exceptions.KoreAIInvalidArgumentsError`: the DAG's import error.
      ``partial()`` checks the arguments it is given the same way; the expanded ones are checked when
      each mapped task is built from them, before it runs.
    * **When the task runs** (:meth:`checked_arguments`): every templated argument as rendered, every
      refusal at once again, before any request.

    A subclass lists its rules in :meth:`argument_rules`, keeps each argument in the attribute of its
    name and calls :meth:`check_arguments` at the end of its ``__init__``. The rules themselves live in
    :mod:`~airflow_provider_koreai.validation`.
    """

    template_fields: Sequence[str]
    #: Arguments that only :meth:`check_between_arguments` reads (they have no rule of their own).
    between_arguments: Sequence[str] = ()
    task_id: str
    koreai_conn_id: str
    hook_params: dict[str, Any]
    if TYPE_CHECKING:
        dag: Any

        def has_dag(self) -> bool: ...

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        """Each checked argument's rule, by argument name, in the order errors list them.

        :param arguments: the arguments given (by ``__init__``, ``partial()``, or the task's attributes
            when it runs), for a rule that depends on another argument (``path`` on ``file_format``).
        """
        return {"koreai_conn_id": validation.connection_id, "hook_params": validation.hook_params}

    @classmethod
    def check_between_arguments(
        cls, arguments: Mapping[str, Any], refusals: validation.Refusals, *, complete: bool
    ) -> None:
        """Rules between arguments (exactly one of ``records`` and ``path``), added to ``refusals``.

        :param complete: ``False`` for ``partial()``, whose missing arguments may be expanded later.
        """

    @classmethod
    def _given_arguments_checked(
        cls, arguments: Mapping[str, Any], rendering: validation.TemplateRendering, *, complete: bool
    ) -> tuple[dict[str, Any], validation.Refusals]:
        refusals = validation.Refusals()
        checked: dict[str, Any] = {}
        for field, rule in cls.argument_rules(arguments).items():
            if field not in arguments:
                continue
            value = arguments[field]
            if field in cls.template_fields:
                if not rendering.is_literal(value):
                    continue  # rendered when the task runs, and checked then
                value = rendering.rendered(value)
            checked[field] = refusals.check(rule, value, field)
        cls.check_between_arguments(arguments, refusals, complete=complete)
        return checked, refusals

    def check_arguments(self) -> None:
        """Check the task's arguments as the DAG file gives them: call it at the end of ``__init__``,
        once each argument is kept in the attribute of its name. Every argument that has a rule
        (:meth:`argument_rules`) is read from there.

        Raises :class:`~airflow_provider_koreai.exceptions.KoreAIInvalidArgumentsError` naming every
        refusal. An argument that is not templated is then kept as checked (``hook_params``' durations as
        ``float``); a templated one stays as written, which is what the DAG serializes.
        """
        missing = object()
        fields = [*self.argument_rules(vars(self)), *self.between_arguments]
        stored = {field: getattr(self, field, missing) for field in fields}
        given = {field: value for field, value in stored.items() if value is not missing}
        rendering = validation.TemplateRendering.of(self.dag if self.has_dag() else None)
        checked, refusals = self._given_arguments_checked(given, rendering, complete=True)
        refusals.raise_all(self.task_id)
        for field, value in checked.items():
            if field not in self.template_fields:
                setattr(self, field, value)

    def checked_arguments(
        self, refusals: validation.Refusals | None = None, *, skip: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The templated arguments as rendered, each checked: call it first when the task runs.

        :param refusals: collect the refusals there instead of raising them (the caller adds its own
            checks, then raises them all); by default every refusal is raised at once.
        :param skip: arguments the caller checks itself.
        :return: the checked value of each templated argument that has a rule (``None`` for a refused one).
        """
        collected = validation.Refusals() if refusals is None else refusals
        checked: dict[str, Any] = {}
        for field, rule in self.argument_rules(vars(self)).items():
            if field in self.template_fields and field not in skip:
                checked[field] = collected.check(rule, getattr(self, field), field)
        if refusals is None:
            collected.raise_all(self.task_id)
        return checked

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Airflow's ``partial()``, with the arguments it is given checked as the constructor checks
        them; the expanded arguments are checked when each mapped task is built, before it runs."""
        airflow_operator: Any = super()
        created: OperatorPartial = airflow_operator.partial(**kwargs)
        rendering = validation.TemplateRendering.of(created.kwargs.get("dag"))
        _, refusals = cls._given_arguments_checked(kwargs, rendering, complete=False)
        if not refusals:
            return created
        task_id = created.kwargs.get("task_id")
        with warnings.catch_warnings():  # Airflow's "Task ... was never mapped!": it never will be
            warnings.simplefilter("ignore")
            del created
        raise KoreAIInvalidArgumentsError(refusals.problems, task_id=task_id)


class KoreAIBaseOperator(KoreAIHookMixin, KoreAIArgumentsMixin, BaseOperator):
    """Base of the Kore.ai operators.

    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: keyword arguments of :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`
        (``timeout``, ``max_attempts``, ``retry_timeout``, ``backoff_initial``, ``backoff_max``), checked
        when the DAG is parsed.

    Subclasses implement :meth:`execute_with_hook`; :meth:`execute` applies the failure rule to it. They
    list their arguments' rules in :meth:`~KoreAIArgumentsMixin.argument_rules`, call
    :meth:`~KoreAIArgumentsMixin.check_arguments` at the end of ``__init__`` and
    :meth:`~KoreAIArgumentsMixin.checked_arguments` first in :meth:`execute_with_hook`.
    Give a task ``outlets=[AssetAlias(...)]`` to record the lists and campaigns it changes as ``koreai://``
    asset events (:meth:`record_contact_list_change`, :meth:`record_campaign_change`).
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
        #: Checked, with the subclass's arguments, by :meth:`check_arguments`.
        self.hook_params = {} if hook_params is None else hook_params
        #: The lists and campaigns this try changed, as (asset URI, event extra): its OpenLineage outputs.
        self.changed_assets: list[tuple[str, dict[str, Any]]] = []

    def execute(self, context: Context) -> Any:
        self.changed_assets = []
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
        self.changed_assets.append((uri, extra))
        self.record_asset_event(context, uri, **extra)

    def record_campaign_change(
        self, context: Context, hook: KoreAIHook, campaign_id: str, **extra: Any
    ) -> None:
        """:meth:`record_contact_list_change` for a campaign (``koreai://<host>/<iid>/campaigns/<id>``)."""
        uri = hook.campaign_asset_uri(campaign_id)
        self.changed_assets.append((uri, extra))
        self.record_asset_event(context, uri, **extra)

    def record_asset_event(self, context: Context, uri: str, **extra: Any) -> None:
        """An event for the asset ``uri`` on every ``AssetAlias`` outlet, and ``extra`` on the event of a
        declared outlet with that URI (see :meth:`record_contact_list_change`)."""
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
        """The lists and campaigns this task changed as outputs (namespace ``koreai://<host>``, name
        ``<iid>/contact-lists/<id>`` or ``<iid>/campaigns/<id>``; rows sent, created or dropped), what else
        it wrote (:meth:`openlineage_outputs`), and what it read as inputs (:meth:`openlineage_inputs`)."""
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
        for uri, extra in self.changed_assets:
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
        return OperatorLineage(
            inputs=self.openlineage_inputs(), outputs=[*outputs, *self.openlineage_outputs()]
        )

    def openlineage_inputs(self) -> list[Any]:
        """The datasets the task read (none for most operators)."""
        return []

    def openlineage_outputs(self) -> list[Any]:
        """The datasets the task wrote besides the ``koreai://`` ones it changed (a file, for the export)."""
        return []
