"""Usage-pattern features from half-hourly readings (issues 4 and 12).

Daily features (``daily/``) are Polars expressions over the day table (``dayframe.py``), one
function per column; window features (``windows/``) are expressions over cumulative window
sums of the daily rows. ``registry.py`` lists the modules that hold them.

- :func:`compute` keeps ``daily_features`` and ``household_features`` up to date (incremental).
- :func:`window_features` computes household-window features for given (household_id, as_of).
- :func:`catalog` lists every feature with level, unit and description.

See docs/features.md.
"""

from meterrisk.features.catalog import catalog
from meterrisk.features.compute import compute, window_features

__all__ = ["catalog", "compute", "window_features"]
