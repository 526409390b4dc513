"""Prefect flows and deployments for meterrisk.

``ingest`` (inbox -> store), ``features``, ``alerts``, ``risk_list`` (score + export),
``train`` (with promotion), ``daily`` (ingest -> features -> alerts), ``sharded`` (the daily
job's features and alerts per household shard on Dask), ``demo`` (synthetic cohort end to end) and ``deployments`` (schedules served by ``meterrisk serve``).
Flows pass paths and table names between tasks, never large frames.
"""

from pipelines._env import configure_prefect

configure_prefect()
