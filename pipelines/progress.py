"""Stage-by-stage progress for the flows: :mod:`meterrisk.progress` (shared with the CLI's steps)."""

from meterrisk.progress import shown, stage, step, watched

__all__ = ["shown", "stage", "step", "watched"]
