"""Household shards: the per-household stages (features, alerts) on many machines.

The main store stays the system of record for what arrives once per delivery (the registry
and consent, ingest with its per-file accounting, quarantine and archive) and for what is
decided once for the town (the default date, training, scoring, the risk list). What costs
CPU per household, the daily and window features and the inactivity alerts, runs per shard:

* :mod:`.partition`: which shard a household belongs to (a hash of its pseudonym, stable
  across runs and machines);
* :mod:`.transfer`: the main store's side: each shard's new day rows, readings and small
  tables out as hive-partitioned Parquet (``table/shard=K/``), and the shards' features and
  alerts back into the main store;
* :mod:`.worker`: one shard's side (a Dask task): its own DuckDB store, brought up to date
  from that Parquet, then the unchanged feature engine and alert detector on it;
* :mod:`.purge`: a withdrawal reaches the shard stores and any transfer files left behind.

The flow is ``pipelines/sharded.py``; docs/scale-out.md says how to run it on a cluster.
"""
