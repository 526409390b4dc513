"""prefect.yaml, the work-pool deployments: what `prefect deploy` and a process worker rely on.

A worker runs each flow run in METERRISK_HOME (the pull step), not in this checkout, so every
entrypoint must load from any working directory; the end-to-end check on a real server and
worker is tests/test_deployments_e2e.py (opt-in) and ``python -m pipelines.check_deployments``.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "prefect.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"


def _config() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text())


def _deployments() -> list[dict]:
    return _config()["deployments"]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The working directory a worker's flow run has after the pull step: not this checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_entrypoint_loads_as_a_flow_from_another_working_directory(elsewhere):
    from prefect.flows import Flow, load_flow_from_entrypoint

    for d in _deployments():
        flow = load_flow_from_entrypoint(d["entrypoint"], use_placeholder_flow=False)
        assert isinstance(flow, Flow), d["name"]


def test_deployment_parameters_exist_in_the_flow_signature(elsewhere):
    from prefect.flows import load_flow_from_entrypoint

    for d in _deployments():
        flow = load_flow_from_entrypoint(d["entrypoint"], use_placeholder_flow=False)
        accepted = set(inspect.signature(flow.fn).parameters)
        given = set(d.get("parameters") or {}) | {k for s in d.get("schedules") or [] for k in s.get("parameters") or {}}
        assert given <= accepted, f"{d['name']}: unknown parameters {sorted(given - accepted)}"


def test_prefect_yaml_has_the_same_deployments_and_crons_as_meterrisk_serve():
    from pipelines.deployments import SCHEDULES, deployments

    served = {d.name: d for d in deployments("Asia/Tokyo")}
    yaml_crons = {d["name"]: [s["cron"] for s in d.get("schedules") or []] for d in _deployments()}
    assert yaml_crons == {name: [cron] if cron else [] for name, cron in SCHEDULES}
    for d in _deployments():
        module, _, attr = d["entrypoint"].partition(":")
        flow = getattr(__import__(module, fromlist=[attr]), attr)
        assert served[d["name"]].flow_name == flow.name, d["name"]


def test_every_schedule_has_the_default_time_zone():
    from meterrisk import config

    schedules = [s for d in _deployments() for s in d.get("schedules") or []]
    assert schedules and all(s.get("timezone") == config.DEFAULT_TZ for s in schedules)


def test_every_deployment_is_in_the_documented_work_pool_with_one_run_at_a_time():
    docs = OPERATIONS.read_text()
    for d in _deployments():
        pool = d["work_pool"]["name"]
        assert f"prefect work-pool create {pool} --type process" in docs and f"--pool {pool}" in docs
        assert d.get("concurrency_limit") == 1, d["name"]  # one writer of the DuckDB store


def test_the_environment_variables_prefect_yaml_needs_are_documented():
    used = set(re.findall(r"\{\{\s*\$(\w+)\s*\}\}", PREFECT_YAML.read_text()))
    assert "METERRISK_HOME" in used
    docs = OPERATIONS.read_text()
    for name in used:
        assert f"export {name}=" in docs, name


def test_the_pull_step_enters_meterrisk_home_through_enter_home():
    pull = _config()["pull"]
    assert pull == [{"pipelines.deployments.enter_home": {"directory": "{{ $METERRISK_HOME }}"}}]


# ------------------------------------------------------------------------------------------
# enter_home, the pull step
# ------------------------------------------------------------------------------------------

def _home_with_store(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "meterrisk.duckdb").write_bytes(b"")  # only its presence is checked
    return home


def test_enter_home_makes_meterrisk_home_the_working_directory(tmp_path, monkeypatch, elsewhere):
    from pipelines.deployments import enter_home

    monkeypatch.delenv("METERRISK_DB", raising=False)
    home = _home_with_store(tmp_path)
    assert enter_home(str(home)) == {"directory": str(home)}
    assert Path.cwd() == home


@pytest.mark.parametrize("unfilled", ["{{ $METERRISK_HOME }}", "", None])
def test_enter_home_without_meterrisk_home_names_the_variable(unfilled, elsewhere):
    from meterrisk.errors import MeterriskError
    from pipelines.deployments import enter_home

    with pytest.raises(MeterriskError, match="METERRISK_HOME is not set") as err:
        enter_home(unfilled)
    assert "export METERRISK_HOME=" in err.value.hint
    assert Path.cwd() == elsewhere


def test_enter_home_refuses_a_folder_without_a_store(tmp_path, monkeypatch, elsewhere):
    from meterrisk.errors import MeterriskError
    from pipelines.deployments import enter_home

    monkeypatch.delenv("METERRISK_DB", raising=False)
    with pytest.raises(MeterriskError, match="is not a folder"):
        enter_home(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterriskError, match=r"no store at .*empty/data/meterrisk\.duckdb \(METERRISK_HOME="):
        enter_home(str(tmp_path / "empty"))
    assert Path.cwd() == elsewhere


def test_enter_home_follows_an_absolute_meterrisk_db(tmp_path, monkeypatch, elsewhere):
    from pipelines.deployments import enter_home

    store = tmp_path / "elsewhere.duckdb"
    store.write_bytes(b"")
    monkeypatch.setenv("METERRISK_DB", str(store))
    (tmp_path / "home").mkdir()
    enter_home(str(tmp_path / "home"))
    assert Path.cwd() == tmp_path / "home"


def test_the_pull_step_placeholder_is_filled_from_the_environment_at_run_time(tmp_path, monkeypatch, elsewhere):
    """Left unfilled by `prefect deploy`, "{{ $METERRISK_HOME }}" is filled from the worker's
    environment by the same templating Prefect's run_step applies (prefect.deployments.steps.core)."""
    from prefect.utilities.importtools import import_object
    from prefect.utilities.templating import apply_values

    monkeypatch.delenv("METERRISK_DB", raising=False)
    home = _home_with_store(tmp_path)
    monkeypatch.setenv("METERRISK_HOME", str(home))
    [(step, inputs)] = _config()["pull"][0].items()
    import_object(step)(**apply_values(inputs, os.environ))
    assert Path.cwd() == home


def test_served_deployments_also_run_one_at_a_time():
    # `meterrisk serve` builds its deployments in Python, not from prefect.yaml: the same one-writer
    # limit must hold there, or two served runs overlap on the DuckDB store.
    from pipelines.deployments import deployments

    for d in deployments():
        limit = d.concurrency_limit
        limit = getattr(limit, "limit", limit)
        assert limit == 1, d.name
