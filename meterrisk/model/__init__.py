"""Frailty risk model: examples, calibrated pipeline, evaluation, model folders, scoring.

See docs/model.md. Modules: dataset (examples, assessments), pipeline, metrics, evaluation
(split, baselines, lead time), training, registry (save/load), eligibility, reasons,
scoring, cohort (end-to-end evaluation on a synthetic cohort).
"""

# Before anything imports scikit-learn: sets the OpenMP wait policy libgomp reads on load.
from meterrisk.model import threads  # noqa: E402,F401
