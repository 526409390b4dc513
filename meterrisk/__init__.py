"""meterrisk: frailty and isolation risk from half-hourly smart-meter readings."""

__version__ = "0.1.0"
