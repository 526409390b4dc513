"""Same-day inactivity alerts against each household's own usual day (see docs/alerts.md)."""

from meterrisk.alerts.detector import Alert, DetectorParams, detect_day
from meterrisk.alerts.service import add_absences, latest_date, load_absences, run_alerts

__all__ = ["Alert", "DetectorParams", "add_absences", "detect_day", "latest_date", "load_absences", "run_alerts"]
