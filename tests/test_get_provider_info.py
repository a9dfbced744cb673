from __future__ import annotations

import importlib
import json
import sys
from importlib.metadata import distribution
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import airflow
import jsonschema
import pytest
from packaging.utils import canonicalize_name

from airflow_provider_koreai import __version__
from airflow_provider_koreai.connection import KoreAIConnectionConfig
from airflow_provider_koreai.connection_form import CONN_FIELDS, form_widgets
from airflow_provider_koreai.exceptions import KoreAIConfigurationError
from airflow_provider_koreai.get_provider_info import get_provider_info
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.compat import AIRFLOW_V_3_2_PLUS
from tests.helpers.connections import ACCOUNT_ID, IID, extras_as_the_form_saves

INFO = get_provider_info()


def test_package_name_is_the_canonical_distribution_name() -> None:
    # Airflow's providers manager rejects the provider when these differ.
    assert INFO["package-name"] == canonicalize_name(distribution("airflow-provider-koreai").metadata["Name"])
    assert INFO["versions"] == [__version__]


def test_entry_point_points_here() -> None:
    entry_points = distribution("airflow-provider-koreai").entry_points
    (entry_point,) = [ep for ep in entry_points if ep.group == "apache_airflow_provider"]
    assert entry_point.load() is get_provider_info


def test_validates_against_airflows_schema() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(INFO, schema)


def test_every_declared_module_and_class_imports() -> None:
    sections = ("hooks", "operators", "sensors", "triggers")
    modules = [m for section in sections for item in INFO[section] for m in item["python-modules"]]
    assert {section for section in sections if INFO[section]} == set(sections)
    for module in modules:
        importlib.import_module(module)
    for conn_type in INFO["connection-types"]:
        module_name, _, class_name = conn_type["hook-class-name"].rpartition(".")
        hook_class = getattr(importlib.import_module(module_name), class_name)
        assert hook_class.conn_type == conn_type["connection-type"] == "koreai"
        assert hook_class.hook_name == conn_type["hook-name"] == "Kore.ai"


def test_legacy_form_behaviour_matches_the_provider_info() -> None:
    """Airflow < 3.2 reads the hook's classmethod, 3.2+ the provider info: the same form either way."""
    (conn_type,) = INFO["connection-types"]
    behaviour, legacy = conn_type["ui-field-behaviour"], KoreAIHook.get_ui_field_behaviour()
    assert set(behaviour["hidden-fields"]) == set(legacy["hidden_fields"])
    assert behaviour["relabeling"] == legacy["relabeling"]
    assert behaviour["placeholders"] == legacy["placeholders"]


def test_legacy_widgets_match_conn_fields() -> None:
    pytest.importorskip("flask_appbuilder")
    assert set(KoreAIHook.get_connection_form_widgets()) == set(CONN_FIELDS)


def _needs_the_form_source() -> None:
    """Airflow 3.0/3.1 build the form's extra fields from ``get_connection_form_widgets``, whose field
    classes come with the FAB provider (flask-appbuilder, wtforms); 3.2+ read ``conn-fields``."""
    if not AIRFLOW_V_3_2_PLUS:
        pytest.importorskip("flask_appbuilder", reason="Airflow < 3.2 needs the FAB provider for the form")


def test_ui_hook_meta_serves_the_koreai_form() -> None:
    """What ``GET /ui/connections/hook_meta`` serves the UI's connection form, built by Airflow's
    providers manager from whichever source the running release reads."""
    _needs_the_form_source()
    from airflow.api_fastapi.core_api.routes.ui.connections import hook_meta_data

    served = {meta.connection_type: meta.model_dump(mode="json") for meta in hook_meta_data()}
    form = served["koreai"]
    assert form["hook_name"] == "Kore.ai"
    assert form["hook_class_name"] == "airflow_provider_koreai.hooks.koreai.KoreAIHook"
    assert set(form["extra_fields"]) == set(CONN_FIELDS)
    for name, spec in CONN_FIELDS.items():
        served_field = form["extra_fields"][name]
        assert served_field["schema"]["title"] == spec["label"], served_field
        if AIRFLOW_V_3_2_PLUS:  # the form from conn-fields: types, defaults and limits reach the browser
            assert served_field["description"] == spec["description"]
            assert {key: served_field["schema"].get(key) for key in spec["schema"]} == spec["schema"], name
    standard = form["standard_fields"]
    assert standard["login"]["title"] == "Client ID"
    assert standard["password"]["title"] == "Client Secret"
    # Shown: Airflow 3.3.1/3.3.2 test only a connection saved with a port (apache/airflow#73298).
    assert standard["port"]["hidden"] is False
    assert standard["port"]["placeholder"].startswith("443")
    assert standard["url_schema"]["hidden"] is True


def test_airflow_registers_the_connection_type_and_form() -> None:
    _needs_the_form_source()
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-koreai" in manager.providers
    hook_info: Any
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:  # Airflow < 3.2: hooks are still listed by the core manager
        hook_info = manager.hooks["koreai"]
    else:
        hook_info = ProvidersManagerTaskRuntime().hooks["koreai"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_provider_koreai.hooks.koreai.KoreAIHook"
    assert hook_info.connection_testable
    widgets = manager.connection_form_widgets
    for field in CONN_FIELDS:
        assert f"extra__koreai__{field}" in widgets
    assert manager.field_behaviours["koreai"]["relabeling"]["login"] == "Client ID"


def test_the_form_requires_application_and_account_id() -> None:
    """Airflow >= 3.2's form requires a field whose JSON Schema type does not allow null (and keeps Save
    disabled until it is filled: the browser test presses it); every other field may stay empty."""
    required = {name for name, spec in CONN_FIELDS.items() if "null" not in spec["schema"]["type"]}
    assert required == {"iid", "account_id"}


def test_the_form_saves_no_text_the_masker_warns_about() -> None:
    """Airflow masks every string in a connection's extras and warns, in every task log, about one
    shorter than 5 characters ("Skipping masking for a secret as it's too short"). What the 3.2+ form
    saves untouched is numbers, booleans, nulls and the required ids: no "true" for ``verify``."""
    saved = extras_as_the_form_saves(iid=IID, account_id=ACCOUNT_ID)
    assert not {key: value for key, value in saved.items() if isinstance(value, str) and len(value) < 5}
    assert saved["verify"] is None
    assert saved["enforce_jti"] is True
    assert read_connection(saved).verify is True


REQUIRED_EXTRAS = {"iid": "st-1", "account_id": "a" * 24}


def read_connection(extra: dict[str, Any]) -> KoreAIConnectionConfig:
    """The connection reader's view of a connection with these extras (and valid standard fields)."""
    connection = SimpleNamespace(
        conn_id="c", host="platform.kore.ai", login="cs-1", password="s" * 32, port=None, schema=None
    )
    connection.extra_dejson = extra
    return KoreAIConnectionConfig.from_connection(connection)


def test_the_form_offers_every_extra_the_connection_reader_reads() -> None:
    """A field missing from the form can only be set through raw Extra JSON; a field the reader ignores
    would be a setting that does nothing."""

    asked: set[str] = set()

    class RecordingExtras(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            asked.add(key)
            return super().get(key, default)

    read_connection(RecordingExtras(REQUIRED_EXTRAS))
    read = {key for key in asked if not key.startswith("extra__koreai__")}
    assert read == set(CONN_FIELDS)


def test_every_form_default_is_what_the_reader_uses_when_the_field_is_empty() -> None:
    """The form pre-fills its defaults: saving it unchanged must behave as leaving the fields empty."""

    defaults = {
        name: spec["schema"]["default"] for name, spec in CONN_FIELDS.items() if "default" in spec["schema"]
    }
    prefilled, empty = read_connection({**REQUIRED_EXTRAS, **defaults}), read_connection(REQUIRED_EXTRAS)
    # Empty max_attempts / retry_timeout read as None: "the hook's default", which is the form's default.
    assert {name: getattr(prefilled, name) for name in defaults} == {
        name: getattr(empty, name) for name in defaults
    } | {"max_attempts": defaults["max_attempts"], "retry_timeout": defaults["retry_timeout"]}


#: JSON values the 3.2+ form may save for a typed field (it sends numbers and booleans as JSON).
PROBES: list[Any] = [
    True,
    False,
    -1,
    0,
    0.001,
    0.5,
    1,
    1.5,
    5,
    20,
    21,
    99.5,
    100,
    101,
    3600,
    3601,
    100_000,
    100_001,
]


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, spec in CONN_FIELDS.items()
        if spec["schema"]["type"][0] in ("boolean", "integer", "number")
    ],
)
def test_the_form_accepts_exactly_what_the_reader_accepts(name: str) -> None:
    """Types and limits come from one table (``defaults.CONNECTION_EXTRAS``): a value the form's JSON
    Schema lets through is one the reader takes, and the other way round."""
    validator = jsonschema.Draft202012Validator(CONN_FIELDS[name]["schema"])
    for value in PROBES:
        try:
            read_connection({**REQUIRED_EXTRAS, name: value})
            read = True
        except KoreAIConfigurationError:
            read = False
        assert validator.is_valid(value) == read, (
            f"{name}={value!r}: the form says {not read}, the reader {read}"
        )


def test_legacy_widgets_take_type_label_and_default_from_the_same_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Airflow 3.0/3.1 build the form from ``get_connection_form_widgets`` (FAB and WTForms, not installed
    on every leg): stand-ins record what each widget is built from."""

    class Field:
        def __init__(self, label: str, **kwargs: Any) -> None:
            self.label, self.kwargs = label, kwargs

    kinds = {kind: type(kind, (Field,), {}) for kind in ("StringField", "IntegerField", "BooleanField")}
    stand_ins: dict[str, dict[str, Any]] = {
        "wtforms": kinds,
        "wtforms.validators": {"Optional": object},
        "flask_babel": {"lazy_gettext": str},
        "flask_appbuilder": {},
        "flask_appbuilder.fieldwidgets": {"BS3TextFieldWidget": object},
    }
    for module, names in stand_ins.items():
        monkeypatch.setitem(sys.modules, module, SimpleNamespace(**names))

    widgets = form_widgets()
    expected_kind = {"boolean": "BooleanField", "integer": "IntegerField"}
    assert set(widgets) == set(CONN_FIELDS)
    for name, widget in widgets.items():
        spec = CONN_FIELDS[name]
        assert type(widget).__name__ == expected_kind.get(spec["schema"]["type"][0], "StringField"), name
        assert (widget.label, widget.kwargs["description"]) == (spec["label"], spec["description"])
        # The legacy form pre-fills only its check box; numbers show their default as a placeholder.
        prefilled = spec["schema"]["default"] if spec["schema"]["type"][0] == "boolean" else None
        assert widget.kwargs.get("default") == prefilled, name
