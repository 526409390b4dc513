"""Household-window features in Polars, from window sums over the daily rows.

- :mod:`.spans`: which days a window reads and which daily columns it summarises.
- :mod:`.sums`: the dense per-household daily frame, its cumulative sums, and
  :class:`.sums.Window`, through which features read sums over spans of days.
- Feature modules (registered in :mod:`meterrisk.features.registry`): :mod:`.summaries`,
  :mod:`.deviation`, :mod:`.counts`, :mod:`.temperature`, :mod:`.routine`, :mod:`.circadian`.
- :mod:`.frame`: :func:`.frame.window_frame`, the household_features rows for requests.
"""
