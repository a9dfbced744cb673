"""``make demo`` and ``make demo-campaign``: an example DAG, run by real Airflow against the local Kore.ai
emulator, told step by step.

``python scripts/demo.py [refresh|campaign]`` (default ``refresh``):

* ``refresh`` (``make demo``) runs ``example_dags/koreai_refresh_contact_list.py``: load, create or reuse
  the list, update it, add the contacts, wait (deferred) until Kore.ai has ingested them, retire last
  month's list;
* ``campaign`` (``make demo-campaign``) runs ``example_dags/koreai_run_campaign.py``: load, fill the list,
  create the voice campaign, start it, wait (deferred) until it has dialled every contact, export each
  contact's outcome, count the outcomes.

The story it prints:

1. the emulator starts as a separate process on a free loopback port, ingesting contacts a few seconds
   after accepting them, as Kore.ai does asynchronously (and, for the campaign, dialling a few contacts
   a second);
2. ``koreai_default`` points at it through ``AIRFLOW_CONN_KOREAI_DEFAULT`` (environment only: nothing
   secret is written to disk), and the Variable ``koreai_export_location`` at a temporary folder through
   ``AIRFLOW_VAR_KOREAI_EXPORT_LOCATION``, as a deployment would configure its own;
3. the DAG runs with ``dag.test()`` against the migrated metadata DB in ``AIRFLOW_HOME``; each task's
   state is printed as it changes, including ``deferred`` while a sensor waits in the trigger, and what
   the trigger reads meanwhile;
4. the XComs the tasks handed on, and what the emulator now holds (the list; the campaign and the
   exported file, counted by outcome: never a phone number);
5. the emulator stops, by PID.

Airflow's own logging goes to a file (its path is printed), not to the screen. Exits non-zero if anything
failed, or if the sensor the story is about did not defer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from airflow_provider_koreai.emulator.process import EmulatorProcess

REPO_ROOT = Path(__file__).resolve().parent.parent


class Story:
    """Numbered steps on the real terminal, whatever happens to file descriptors 1 and 2."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        self.step = 0

    def say(self, text: str) -> None:
        self.step += 1
        self.out.write(f"[{self.step}] {text}\n")

    def detail(self, text: str) -> None:
        self.out.write(f"      {text}\n")


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[IO[str]]:
    """Send everything written to file descriptors 1 and 2 (Airflow's logging included) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a", encoding="utf-8", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class TaskWatcher(threading.Thread):
    """Prints each task's state as it changes while ``dag.test()`` runs: read from the metadata DB, and
    from Airflow's log for what the DB does not show for long (the deferral, the trigger's polls)."""

    _DEFERRED = re.compile(r"Pausing task as DEFERRED.*task_id=(\S+)")
    _TRIGGER = re.compile(r"\] (Kore\.ai (?:list|campaign) .*?) \[airflow_provider_koreai\.triggers")
    #: What the campaign tasks say on the worker: created, still Preparing, started, the first status read,
    #: exported.
    _CAMPAIGN = re.compile(
        r"\] ((?:Created |Starting |Started |Exported .*? of )?Kore\.ai (?:voice |sms )?campaign .*?) "
        r"\[airflow\.task\.operators\.airflow_provider_koreai\.(?:operators|sensors)\.campaign\."
    )

    def __init__(self, story: Story, example: Example, started: float, log_path: Path) -> None:
        super().__init__(daemon=True)
        self.story = story
        self.example = example
        self.started = started
        self.log_path = log_path
        self.offset = log_path.stat().st_size
        self.stop = threading.Event()
        self.seen: dict[str, str] = {}
        self.deferred: set[str] = set()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.poll()
        self.poll()

    def poll(self) -> None:
        with contextlib.suppress(Exception):  # SQLite may be busy for a moment: read again later
            self.read_states()
        self.read_log()

    def show(self, task_id: str, text: str) -> None:
        self.story.detail(f"+{time.monotonic() - self.started:5.1f}s  {task_id:<24} {text}")

    def read_log(self) -> None:
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(self.offset)
            text = log.read()
        complete = text.rfind("\n") + 1
        self.offset += len(text[:complete].encode("utf-8"))
        for line in text[:complete].splitlines():
            if deferred := self._DEFERRED.search(line):
                self.deferred.add(deferred.group(1))
                self.seen[deferred.group(1)] = "deferred"
                self.show(
                    deferred.group(1), "deferred  <- the trigger waits in the triggerer, no worker slot"
                )
            elif polled := self._TRIGGER.search(line):
                self.show("  (trigger)", polled.group(1))
            elif said := self._CAMPAIGN.search(line):
                self.show("  (task log)", said.group(1))

    def read_states(self) -> None:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from sqlalchemy import select

        order = self.example.task_order
        with create_session() as session:
            rows = session.execute(
                select(TaskInstance.task_id, TaskInstance.state).where(
                    TaskInstance.dag_id == self.example.dag_id
                )
            ).all()
        for task_id, state in sorted(rows, key=lambda row: order.index(row[0])):
            if state is None or self.seen.get(task_id) == str(state):
                continue
            if self.seen.get(task_id) == "deferred" and str(state) in ("scheduled", "queued"):
                continue  # back in the queue to resume: the log said more already
            self.seen[task_id] = str(state)
            self.show(task_id, str(state))


def rendered(dag_run: Any, task_id: str) -> dict[str, Any]:
    """The task's arguments as rendered for the run: what the UI's Rendered Templates shows."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    return RenderedTaskInstanceFields.get_templated_fields(dag_run.get_task_instance(task_id)) or {}


#: Reads one XCom of the run: ``xcom(task_id, key="return_value")``.
XComReader = Callable[..., Any]


@dataclass(frozen=True)
class Example:
    """One example DAG as the demo runs and tells it."""

    dag_id: str
    #: Every task, in the order the story lists their states.
    task_order: tuple[str, ...]
    #: The sensor whose deferral the story is about: the demo fails if it did not defer.
    deferring_sensor: str
    customers: int
    #: The emulator's command-line arguments, and the sentence that says what they do.
    emulator_args: tuple[str, ...]
    emulator_pace: str
    #: Seconds between status reads, by task id and argument (a sensor's ``poke_interval``...): the
    #: examples' own intervals suit Kore.ai, these keep the demo short.
    faster: dict[str, dict[str, float]]
    #: Prints what the tasks handed on and what the emulator holds; returns the exit code.
    tell: Callable[[Story, Any, XComReader], int]


def tell_refresh(story: Story, dag_run: Any, xcom: XComReader) -> int:
    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    story.say("What the tasks handed on (XCom)")
    list_id = xcom("add_contacts", "contact_list_id")
    loaded = xcom("load_renewals_due") or {}
    story.detail(f"load_renewals_due    export_uri={loaded.get('export_uri')}  <- named after the run")
    story.detail(f"create_contact_list  contact_list_id={xcom('create_contact_list', 'contact_list_id')}")
    read = rendered(dag_run, "add_contacts").get("path")
    same = "the file this run wrote" if read == loaded.get("export_uri") else "NOT the file this run wrote"
    story.detail(f"add_contacts         read {read}  <- {same}")
    story.detail(
        f"add_contacts         rows_sent={xcom('add_contacts', 'rows_sent')} "
        f"count_before={xcom('add_contacts', 'count_before')} "
        f"expected_count={xcom('add_contacts', 'expected_count')}"
    )
    ingestion = xcom("wait_for_ingestion", "ingestion")
    story.detail(f"wait_for_ingestion   {json.dumps(ingestion)}")
    retired = xcom("find_last_months_list")
    retire = f"last month's list {retired}" if retired else "skipped: no list of last month to retire"
    story.detail(f"find_last_months_list {retire}")
    story.detail(f"report               {json.dumps(xcom('report'))}")

    if dag_run.state != "success" or not list_id or read != loaded.get("export_uri"):
        story.say("The example DAG did not succeed")
        return 1
    story.say("The list as the emulator now holds it")
    stored = KoreAIHook().get_contact_list(list_id)
    for key in ("_id", "name", "description", "totalRecordCount", "allowDuplicates", "updatedAt"):
        story.detail(f"{key:<17} {stored.get(key)}")
    return 0


def tell_campaign(story: Story, dag_run: Any, xcom: XComReader) -> int:
    import gzip

    from airflow.sdk import ObjectStoragePath

    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    story.say("What the tasks handed on (XCom): ids, statuses and counts, never a phone number")
    loaded = xcom("load_customers") or {}
    story.detail(f"load_customers       export_uri={loaded.get('export_uri')}  <- named after the run")
    story.detail(
        f"add_contacts         rows_sent={xcom('add_contacts', 'rows_sent')} "
        f"into list {xcom('add_contacts', 'contact_list_id')}"
    )
    story.detail(f"wait_for_ingestion   {json.dumps(xcom('wait_for_ingestion', 'ingestion'))}")
    story.detail(f"create_campaign      {json.dumps(xcom('create_campaign'))}")
    started = xcom("start_campaign") or {}
    story.detail(f"start_campaign       {json.dumps(started)}")
    story.detail(f"wait_for_campaign    {json.dumps(xcom('wait_for_campaign'))}")
    exported = xcom("export_results") or {}
    story.detail(f"export_results       {json.dumps(exported)}")
    story.detail(f"report               {json.dumps(xcom('report'))}")

    campaign_id = started.get("campaign_id")
    if dag_run.state != "success" or not campaign_id or not exported.get("destination"):
        story.say("The example DAG did not succeed")
        return 1
    story.say("The campaign as the emulator now holds it")
    campaign = KoreAIHook().get_campaign(campaign_id)
    for key in ("_id", "name", "status", "dialingMode", "contactLists", "campaignInstanceId", "updatedAt"):
        story.detail(f"{key:<19} {campaign.get(key)}")
    story.say(f"The exported results: {exported['destination']}")
    results = ObjectStoragePath(exported["destination"])
    with results.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as lines:
        header = lines.readline().strip()
        rows = sum(1 for _ in lines)
    story.detail(f"{results.stat().st_size} bytes gzipped, {rows} rows of: {header}")
    counted = ", ".join(f"{outcome} {count}" for outcome, count in exported["outcomes"].items())
    story.detail(f"outcomes: {counted}  <- the report's counts; the numbers stay in the file")
    if rows != exported["rows_written"]:
        story.say(f"The file holds {rows} rows, the export said {exported['rows_written']}")
        return 1
    return 0


EXAMPLES = {
    "refresh": Example(
        dag_id="koreai_refresh_contact_list",
        task_order=(
            "load_renewals_due",
            "create_contact_list",
            "update_contact_list",
            "add_contacts",
            "wait_for_ingestion",
            "find_last_months_list",
            "delete_last_months_list",
            "report",
        ),
        deferring_sensor="wait_for_ingestion",
        customers=120,
        # Long enough that the sensor's first check on the worker comes before the rows are in: it defers.
        emulator_args=("--ingestion-delay", "4"),
        emulator_pace="it ingests contacts 4 s after accepting them",
        # The example polls every 10 s, as it should against Kore.ai; 2 s keeps the demo short.
        faster={"wait_for_ingestion": {"poke_interval": 2.0}},
        tell=tell_refresh,
    ),
    "campaign": Example(
        dag_id="koreai_run_campaign",
        task_order=(
            "load_customers",
            "create_contact_list",
            "add_contacts",
            "wait_for_ingestion",
            "create_campaign",
            "start_campaign",
            "wait_for_campaign",
            "stop_campaign_if_running",
            "export_results",
            "report",
        ),
        deferring_sensor="wait_for_campaign",
        customers=40,
        # 40 contacts at 5 a second: the campaign dials for 8 s, long after the sensor's first check.
        emulator_args=("--ingestion-delay", "2", "--dial-rate", "5", "--campaign-preparation", "2"),
        emulator_pace=(
            "it ingests contacts 2 s after accepting them, prepares a voice campaign for 2 s, "
            "and dials 5 contacts a second"
        ),
        # The example reads every 10 to 60 s, as it should against Kore.ai.
        faster={
            "wait_for_ingestion": {"poke_interval": 1.0},
            "start_campaign": {"preparing_poll_interval": 1.0},
            "wait_for_campaign": {"poke_interval": 2.0},
        },
        tell=tell_campaign,
    ),
}


def run_dag(story: Story, log_path: Path, example: Example) -> int:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    story.say(
        f"Running DAG {example.dag_id} with dag.test(): {example.customers} customers, "
        "task states as they change"
    )
    started = time.monotonic()
    with output_to(log_path):
        watcher = TaskWatcher(story, example, started, log_path)
        bag = DagBag(dag_folder=str(REPO_ROOT / "example_dags"))
        if bag.import_errors:
            story.detail(f"DAG import errors: {bag.import_errors}")
            return 1
        dag = bag.get_dag(example.dag_id)
        assert dag is not None, example.dag_id
        for task_id, arguments in example.faster.items():
            for name, seconds in arguments.items():
                setattr(dag.get_task(task_id), name, seconds)
        watcher.start()
        try:
            dag_run = dag.test(run_conf={"customers": example.customers})
        finally:
            watcher.stop.set()
            watcher.join(timeout=5)
    story.detail(f"DAG run {dag_run.run_id}: {dag_run.state} in {time.monotonic() - started:.1f} s")

    def xcom(task_id: str, key: str = "return_value") -> Any:
        return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id, key=key)

    code = example.tell(story, dag_run, xcom)
    if code:
        story.detail(f"see {log_path}")
        return code
    if example.deferring_sensor not in watcher.deferred:
        story.say(f"{example.deferring_sensor} never deferred: the demo expected it to wait in the triggerer")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("example", nargs="?", choices=sorted(EXAMPLES), default="refresh")
    example = EXAMPLES[parser.parse_args(argv).example]
    story = Story()
    # Outlives the throwaway AIRFLOW_HOME, so that it can still be read after the demo.
    log_path = Path(os.environ.get("KOREAI_DEMO_LOG") or REPO_ROOT / ".demo" / "airflow.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf-8")
    with (
        log_path.open("a", encoding="utf-8", buffering=1) as emulator_log,
        EmulatorProcess(*example.emulator_args, output=emulator_log) as emulator,
    ):
        story.say(f"Kore.ai emulator up at {emulator.url} (pid {emulator.pid}); {example.emulator_pace}")
        connection = emulator.connection
        os.environ["AIRFLOW_CONN_KOREAI_DEFAULT"] = json.dumps(connection)
        story.say(
            f"Connection koreai_default: host {connection['host']}, client id {connection['login']}, "
            "secret from the environment (never printed)"
        )
        with tempfile.TemporaryDirectory(prefix="koreai-exports-") as export_dir:
            os.environ["AIRFLOW_VAR_KOREAI_EXPORT_LOCATION"] = Path(export_dir).as_uri()
            story.detail(
                f"Variable koreai_export_location: {Path(export_dir).as_uri()} (where each run writes its "
                "files; s3://... on workers that share no disk)"
            )
            story.detail(f"Airflow's full log: {log_path}")
            code = run_dag(story, log_path, example)
    story.say(f"Emulator (pid {emulator.pid}) stopped. Airflow's full log: {log_path}")
    return code


if __name__ == "__main__":
    sys.exit(main())
