"""Daily town temperature and cloudiness shared by every home (one town, one weather)."""

from __future__ import annotations

import numpy as np

from meterrisk.synth.timegrid import Grid

#: Annual mean and half-range (deg C) of a Tokai-coast town; coldest late January to early
#: February (~5 C), hottest early August (~28 C), as in Japan Meteorological Agency normals.
MEAN_C, AMPLITUDE_C, COLDEST_DOY = 16.4, 11.6, 35
#: Day-to-day weather persistence (AR(1) coefficient) and innovation sd (deg C).
AR, NOISE_C = 0.7, 1.6


def temperature(grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """Daily local mean temperature, deg C, shape (days,)."""
    season = MEAN_C - AMPLITUDE_C * np.cos(2 * np.pi * (grid.day_of_year - COLDEST_DOY) / 365.25)
    noise = np.zeros(grid.days)
    eps = rng.normal(0, NOISE_C, grid.days)
    for i in range(grid.days):
        noise[i] = (AR * noise[i - 1] if i else 0.0) + eps[i]
    return np.round(season + noise, 1)


def clearness(grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """Share of clear-sky solar output reaching panels each day, 0.1..1, shape (days,)."""
    return 0.1 + 0.9 * rng.beta(2.0, 1.2, grid.days)
