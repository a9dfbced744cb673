"""Apache Airflow provider for Kore.ai Contact Center campaign contact lists."""

from __future__ import annotations

__version__ = "0.1.0"
