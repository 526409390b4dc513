"""Ingest: utility exports and the household registry into the store, validated and counted.

``readers`` split bytes into rows, ``parse`` types and checks them, ``layouts`` handles long,
wide and register files, ``register`` turns meter indexes into use, ``loader`` owns the
transaction and the accounting, ``registry`` loads households and enforces consent, ``days``
keeps ``reading_days`` (one row per household and local day) in step with the readings.
"""

from meterrisk.ingest.loader import Delivery, FileResult, delivery_path_of, ingest_file
from meterrisk.ingest.profiles import Profile, builtin_names, load_profile
from meterrisk.ingest.reasons import INFO, Reason
from meterrisk.ingest.registry import RegistryResult, load_registry
from meterrisk.ingest.service import expand_inputs, ingest_paths
from meterrisk.ingest.weather import load_temperature

__all__ = [
    "INFO",
    "Delivery",
    "FileResult",
    "Profile",
    "Reason",
    "RegistryResult",
    "builtin_names",
    "delivery_path_of",
    "expand_inputs",
    "ingest_file",
    "ingest_paths",
    "load_profile",
    "load_registry",
    "load_temperature",
]
