"""What the tests share, one home per helper: test modules import from here, never from another test
module or a conftest (conftests hold fixtures only).

* :mod:`~tests.helpers.connections`: the fake tenant's credentials and ``AIRFLOW_CONN_*`` values;
* :mod:`~tests.helpers.paths`: the repository's DAG folders;
* :mod:`~tests.helpers.emulator`: one emulator server per settings for the session (the ``emulator``
  fixture's factory); :mod:`~tests.helpers.kore_api`: a client of its HTTP API independent of the hook;
* :mod:`~tests.helpers.compat`: the one bridge to names that moved between Airflow 3.0 and 3.3;
* :mod:`~tests.helpers.dag_runs`: ``dag.test()`` runs of the example and test DAGs;
* :mod:`~tests.helpers.stores`: real Redis and PostgreSQL servers on 127.0.0.1; with
  :mod:`~tests.helpers.shared_budget` (and its :mod:`~tests.helpers.budget_worker` processes) for the
  shared request budget; :mod:`~tests.helpers.s3`: moto's S3 server and its ``aws`` connection;
* :mod:`~tests.helpers.deployment` and :mod:`~tests.helpers.celery_deployment`: the real deployments of
  ``make e2e`` (LocalExecutor) and ``make e2e-celery`` (two Celery workers); in them,
  :mod:`~tests.helpers.example_runs` runs every example DAG and checks each run, and
  :mod:`~tests.helpers.secret_scan` reads everything they wrote for the client secret or a JWT;
* :mod:`~tests.helpers.properties`: the documented argument rules restated as an oracle, and the
  Hypothesis strategies of the property tests.

Importing this package loads nothing but the standard library: the emulator's own tests run without
Airflow (``make test-emulator-newest-fastapi``), and ``tests/conftest.py`` must settle Airflow's
environment before anything imports it. Only ``compat`` and ``dag_runs`` import Airflow.
"""
