"""Usage-pattern features from half-hourly readings (issue 4).

- :func:`compute` keeps ``daily_features`` and ``household_features`` up to date (incremental).
- :func:`window_features` computes household-window features for given (household_id, as_of).
- :func:`catalog` lists every feature with level, unit and description.

See docs/features.md.
"""

from meterrisk.features.catalog import catalog
from meterrisk.features.compute import compute, window_features

__all__ = ["catalog", "compute", "window_features"]
