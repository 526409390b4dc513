"""Routine features over the whole 12-week window: rates too noisy to read from 4 weeks.

Night blips are rare events (a robust resident has a few a week), so their 28-day mean
(``night_blips_mean_28d``, a SUMMARISED daily feature) counts few of them; the mean over all
valid days of the 84 the window reads halves its noise. Each function takes the window's
:class:`meterrisk.features.window.Days` grid and returns one value per request (NaN = undefined).
"""

from __future__ import annotations

import numpy as np

from reference_numpy.window import Days, mean_where


def night_blips_mean_84d(d: Days) -> np.ndarray:
    """Mean of daily night_blips over the valid days in the 84 up to as_of (the whole window):
    small night-time bumps per night, a day/night reversal sign.

    Unit: count (half hours per night)
    Edge cases: null on days without night_blips; the window as a whole needs 21 valid days
    in the last 28 (dq_flag).
    """
    return mean_where(d.feature("night_blips"), d.valid)


FEATURES = [night_blips_mean_84d]
