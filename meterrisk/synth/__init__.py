"""Synthetic cohorts of older residents' half-hourly smart-meter readings, with ground truth.

``generate`` writes readings in any input layout of docs/CONTRACTS.md plus the registry,
Kihon-Checklist assessments, daily temperature, and an evaluation-only ``truth/`` folder
(latent frailty, onsets, injected events and faults). See docs/synth.md.
"""

from meterrisk.synth.build import LAYOUTS, generate
from meterrisk.synth.params import SynthParams

__all__ = ["LAYOUTS", "SynthParams", "generate"]
