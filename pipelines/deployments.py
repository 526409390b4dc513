"""Schedules: served locally by ``meterrisk serve``; ``prefect.yaml`` has the same for work pools.

Cron times are local (Asia/Tokyo unless METERRISK_TZ says otherwise): the daily job at
02:00 after the utility's overnight delivery, the risk list on the 1st at 06:00, training
on demand (no schedule).
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from meterrisk import config
from pipelines.daily import daily_flow
from pipelines.risk_list import risk_list_flow
from pipelines.train import train_flow

DAILY_CRON = "0 2 * * *"
MONTHLY_CRON = "0 6 1 * *"


def deployments(timezone: str | None = None) -> list:
    tz = config.local_timezone(timezone)
    return [
        daily_flow.to_deployment(name="daily", schedule=Cron(DAILY_CRON, timezone=tz),
                                 description="Ingest the inbox, update features, raise inactivity alerts."),
        risk_list_flow.to_deployment(name="monthly-risk-list", schedule=Cron(MONTHLY_CRON, timezone=tz),
                                     description="Score every consenting household; export the risk list."),
        train_flow.to_deployment(name="train", description="Retrain; promote only if better. Run on demand."),
    ]


def serve_all(timezone: str | None = None) -> None:  # pragma: no cover - blocks until interrupted
    serve(*deployments(timezone))
