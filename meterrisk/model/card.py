"""MODEL_CARD.md text from a manifest."""

from __future__ import annotations


def _f(x, nd=3) -> str:
    if x is None:
        return "n/a"
    try:
        if x != x:  # NaN
            return "n/a"
        return f"{x:.{nd}f}"
    except (TypeError, ValueError):
        return str(x)


def model_card(m: dict) -> str:
    met, base = m["metrics"], m["baselines"]
    age, rule = base["age_logistic"], base["activity_rule"]
    cap = m["capacity"]
    rows = [
        ("ROC-AUC", "roc_auc"), ("PR-AUC", "pr_auc"), ("Brier", "brier"), ("ECE (10 bins)", "ece"),
        (f"precision at {cap:.0%}", "precision_at_capacity"), (f"recall at {cap:.0%}", "recall_at_capacity"),
    ]
    table = "\n".join(
        f"| {name} | {_f(met.get(k))} | {_f(age.get(k))} | {_f(rule.get(k))} |" for name, k in rows
    )
    lt = met.get("lead_time", {})
    if lt.get("declining_households") is not None:
        lead = (f"Lead time (declining residents, scored every {lt.get('as_of_every_days')} days; positive = "
                f"flagged before frailty): median {_f(met.get('lead_time_weeks_median'), 1)} weeks; flagged "
                f"{lt.get('flagged_ever')} of {lt.get('declining_households')} "
                f"({lt.get('flagged_before_frail')} before frailty).")
        for key, name in (("new_concern", "new-concern list"), ("either", "either list"),
                          ("new_concern_random", "control: a random new-concern list of the same size")):
            if key in lt:
                x = lt[key]
                lead += (f"\n{name.capitalize()}: median {_f(x.get('lead_time_weeks_median'), 1)} weeks; flagged "
                         f"{x.get('flagged_ever')} of {x.get('declining_households')} ({x.get('flagged_before_frail')} before frailty).")
    else:
        lead = "Lead time: not measured here (train with --truth, or run `meterrisk evaluate` on a cohort)."
    second = ""
    conc = m.get("concern")
    if conc:
        w = ", ".join(f"{k} {v:+.2f}" for k, v in conc["weights"].items())
        second = f"""
## Second list: new concern
Each list date, the top {conc['capacity']:.0%} of scored residents by own-change score, among those not in
the high tier on this list or an earlier one (`new_concern`, with `concern_reasons` phrased as change).
The score compares the resident's last {conc['recent_days']} days with their own days
{conc['earlier_days'][0]}-{conc['earlier_days'][1]} before, net of the town's shift on the date, in the
directions frailty moves; channel weights ({'learned from the labelled households' if conc.get('learned')
else 'defaults: no daily features at training'}): {w}. It is not a frailty probability.
"""
        nc = met.get("new_concern") or {}
        if "new_concern" in nc:
            for key, name in (("new_concern", "own change"), ("random", "random list, same size and rule"),
                              ("current_risk_non_high", "current risk among the non-high")):
                x = nc[key]
                second += (f"\n- {name}: flagged before onset {x['flagged_before_onset']} of {x['declining']}, median "
                           f"lead {_f(x['lead_weeks_median'], 1)} weeks, precision within 26 weeks "
                           f"{_f(x['precision_within_horizon'])} ({x['precision_hits']} of {x['precision_entries']})")
            second += "\n"
    if m.get("trend"):
        second += ("\nAn experimental trend pipeline (`train --trend`) is also stored; it no longer sets "
                   "`new_concern` (no better than a random list, docs/model.md).\n")
    split = m["split"]
    return f"""# Model card: meterrisk frailty risk {m['version']}

## Intended use
Rank older residents living alone (65+, consenting, not certified for long-term care, no rooftop
solar) by the probability that they are frail, from their half-hourly electricity use, so that a
town's care staff can choose whom to phone or visit first ({cap:.0%} outreach capacity). It is a
screening aid for a human follow-up, not a diagnosis, and never a reason to withhold a service.

## Data
- Examples: {m['examples']} assessments ({m['frail_examples']} frail), {m['training_window'][0]} to
  {m['training_window'][1]}; label: {m['label']}.
- Inputs: {len(m['feature_names'])} features of the 28-day to 8-week window before each assessment
  (plus age); windows with too few valid days are not used and are never scored.
- Data fingerprint (sha256 of the example table): `{m['data_fingerprint']}`.
- Split: {split['split']} (cutoff {split['time_cutoff']}): {split['train_examples']} training
  examples of {split['train_households']} households, {split['test_examples']} test examples of
  {split['test_households']} other households, assessed later.

## Model
Median imputation, histogram gradient boosting, probabilities calibrated by cross-validated
sigmoid (Platt) scaling (scikit-learn {m['library_versions']['scikit-learn']}). Saved pipeline fitted on:
{m.get('fitted_on', 'training split only')}; the metrics below are from the pipeline fitted on the
training split only, judged on the test split.

## Metrics (test households, later assessments)
| metric | model | age only | activity rule |
|---|---|---|---|
{table}

{lead}
{second}
## Limits
- Trained and measured on the store's assessments (synthetic cohorts during development):
  figures on real homes will differ; re-measure with `meterrisk evaluate` before use.
- Whole-home electricity cannot tell "out" from "collapsed", a visitor from agitation, or a new
  appliance from a change in routine. Reasons are hints for the caller, not findings.
- Homes with night-time water heating, solar generation, or several occupants break the
  assumptions; solar homes and shared homes are excluded from scoring.
- Where more residents are frail than the capacity, the high tier fills with residents already
  frail: it flags declining residents after they became frail (even a perfect score of current
  frailty would). No earlier-warning list has been validated yet (docs/model.md).
- Probabilities are calibrated on the training population's prevalence ({_f(m['frail_examples'] / max(m['examples'], 1))});
  a population with another prevalence needs recalibration.
"""
