"""The monthly report for care staff: the list with reasons and, per flagged household, charts
of its half-hourly use and of the features behind its reasons (docs/report.md)."""

from meterrisk.report.build import Written, write_report

__all__ = ["Written", "write_report"]
