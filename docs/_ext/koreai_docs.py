"""Sphinx directives of this documentation, rendered from the package's own declarations.

``.. koreai-connection-extras::`` renders the connection's extra fields (label, key, type and limits, and
the description the form shows) from :data:`airflow_provider_koreai.connection_form.CONN_FIELDS`, the one
place they are declared: the docs cannot drift from the form.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from airflow_provider_koreai.connection_form import CONN_FIELDS


def _kind(schema: dict[str, Any]) -> str:
    """The JSON type; ``required`` when it does not allow null (the form then requires the field)."""
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    kind = " or ".join(kind for kind in kinds if kind != "null")
    return kind if "null" in kinds else f"{kind}, required"


def _value(schema: dict[str, Any]) -> str:
    """The field's type and limits, e.g. ``integer, 1 to 20``."""
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{_kind(schema)}, {low:,} to {high:,}"
    if low is not None:
        return f"{_kind(schema)}, at least {low}"
    return _kind(schema)


class ConnectionExtras(SphinxDirective):
    """A table of the connection's extra fields, as the form declares them."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = [
            ".. list-table::",
            "   :header-rows: 1",
            "   :width: 100%",
            "   :widths: 21 23 16 40",
            "   :class: koreai-fixed",
            "",
            "   * - Form field",
            "     - Extra key",
            "     - Value",
            "     - What it is",
        ]
        for key, spec in CONN_FIELDS.items():
            schema = spec["schema"]
            lines += [
                f"   * - {spec['label']}",
                f"     - ``{key}``",
                f"     - {_value(schema)}",
                f"     - {spec['description']}",
            ]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="connection_form.CONN_FIELDS"), 0, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("koreai-connection-extras", ConnectionExtras)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
