"""Coded reasons a row is quarantined, like OpenDSM's sufficiency warnings.

Tests and analysts match on the code; the message carries the evidence. ``INFO`` codes are
expected by-products of a layout (a register series has to start somewhere) and do not
make ``meterrisk ingest`` exit non-zero.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED_LINE = "malformed_line"                # wrong number of fields
    MISSING_HOUSEHOLD_ID = "missing_household_id"
    BAD_TIMESTAMP = "bad_timestamp"                  # not parseable as a date-time
    BAD_DATE = "bad_date"                            # wide layout: the day column
    OFF_GRID_TIME = "off_grid_time"                  # not on :00 or :30
    FUTURE_TIME = "future_time"                      # starts more than a day after now
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"  # naive time inside a spring-forward gap
    AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"    # naive time in a fall-back hour, no offset
    SLOT_OUTSIDE_DAY = "slot_outside_day"            # wide layout: hh49 on a 48-slot day
    NON_NUMERIC_VALUE = "non_numeric_value"
    NEGATIVE_VALUE = "negative_value"                # below zero on a home without solar
    IMPLAUSIBLE_VALUE = "implausible_value"          # above the profile's max_kwh_per_slot
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # same household + half hour, different values, in one file
    CONFLICTS_STORED_VALUE = "conflicts_stored_value"  # differs from what an earlier file loaded
    METER_RESET = "meter_reset"                      # register went down, not a rollover
    REGISTER_BASELINE = "register_baseline"          # first index of a series: nothing to subtract
    REGISTER_GAP = "register_gap"                    # index after a gap: use cannot be split into half hours


INFO = frozenset({Reason.REGISTER_BASELINE, Reason.REGISTER_GAP})
