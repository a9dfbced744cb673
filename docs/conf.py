"""Sphinx configuration of the airflow-provider-koreai documentation: ``make docs`` builds it.

The API reference is rendered from the package's docstrings (autodoc, reST ``:param:`` fields), the
examples are included from ``example_dags/`` between ``# [START ...]`` / ``# [END ...]`` markers, and the
connection's fields come from the form's own declaration (``_ext/koreai_docs.py``). So every parameter is
written once, in the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_provider_koreai import __version__

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "airflow-provider-koreai"
author = "airflow-provider-koreai developers"
project_copyright = "the airflow-provider-koreai developers"
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "koreai_docs",
]

exclude_patterns = ["_build"]
# Cross-references to Airflow's, requests' or tenacity's own classes stay plain text: no intersphinx
# inventory can be fetched at build time, and an unresolved reference is not an error (nitpicky off).
nitpicky = False

autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"airflow-provider-koreai {release}"
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["koreai.css"]
