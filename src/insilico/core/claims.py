"""One rule for deciding a claim from replicates, shared by every branch's ``claims.csv``.

A claim is a signed quantity measured on independent replicates (training seeds, cells, images):
a paired difference (model A minus model B on the same seed or cell), or a value minus a
threshold. Its 95 % interval is Student's t over the replicates (each replicate one number, so a
paired design is handled by passing the per-replicate differences). The verdict:

- ``reproduced``: at least ``MIN_REPLICATES`` replicates and the interval excludes zero in the
  claimed direction;
- ``not reproduced``: the interval excludes zero in the opposite direction;
- ``not resolved``: anything else (the interval contains zero, or too few replicates).

``holds`` is true only for ``reproduced``: the sign of a mean never decides a claim on its own.
numpy and scipy only.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

MIN_REPLICATES = 3
Direction = Literal["greater", "less"]
VERDICTS = ("reproduced", "not reproduced", "not resolved")


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean, lower and upper bound of the two-sided t interval, and the number of finite values.

    nan values are dropped; with fewer than two values the bounds are nan.
    """
    values = np.asarray(values, float).ravel()
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(values.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half), n


def verdict(low: float, high: float, n: int, direction: Direction) -> str:
    """``reproduced`` / ``not reproduced`` / ``not resolved`` for an interval (see the module)."""
    if direction not in ("greater", "less"):
        raise ValueError(f"direction must be 'greater' or 'less', got {direction!r}")
    if n < MIN_REPLICATES or not (np.isfinite(low) and np.isfinite(high)):
        return "not resolved"
    above, below = low > 0, high < 0
    if (above and direction == "greater") or (below and direction == "less"):
        return "reproduced"
    if above or below:
        return "not reproduced"
    return "not resolved"


def decide(values, direction: Direction, threshold: float = 0.0, confidence: float = 0.95) -> dict:
    """The claim's row: mean value, interval, replicate count, verdict and ``holds``.

    ``values`` are per-replicate numbers (already paired differences where the design pairs);
    the claim is ``values - threshold`` compared with zero in ``direction``. The reported
    ``value``, ``ci_low`` and ``ci_high`` are on the scale of ``values`` (threshold not removed).
    """
    mean, low, high, n = t_interval(np.asarray(values, float) - threshold, confidence)
    decided = verdict(low, high, n, direction)
    return {
        "value": mean + threshold,
        "ci_low": low + threshold,
        "ci_high": high + threshold,
        "n": n,
        "direction": direction,
        "threshold": threshold,
        "verdict": decided,
        "holds": decided == "reproduced",
    }


TABLE_COLUMNS = ["branch", "claim", "model", "value", "ci_low", "ci_high", "n", "verdict"]


def log_claims(log, table) -> None:
    """One log line per claim of a claims table: value, interval, n and verdict (and the model
    it is about, where the table names one)."""
    for row in table.itertuples():
        model = f" [{row.model}]" if "model" in table else ""
        log.info(
            "%s%s: %.4g [%.4g, %.4g] n=%d %s",
            row.claim, model, row.value, row.ci_low, row.ci_high, row.n, row.verdict,
        )  # fmt: skip


def gather(tables: dict[str, str]):
    """Every branch's ``claims.csv`` as one table (``TABLE_COLUMNS``), the branch named per row.

    ``tables`` maps a branch label to its file. A table without a ``model`` column (a branch
    that compares no models) gets an empty one; extra columns stay in the branch's own file.
    """
    import pandas as pd

    frames = []
    for branch, path in tables.items():
        frame = pd.read_csv(path)
        missing = {"claim", "value", "ci_low", "ci_high", "n", "verdict"} - set(frame.columns)
        if missing:
            raise ValueError(f"{path}: claims table lacks the columns {sorted(missing)}")
        frame = frame.assign(branch=branch)
        if "model" not in frame:
            frame["model"] = ""
        frames.append(frame[TABLE_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def verdict_counts(claims):
    """Per branch: how many claims each verdict has (columns in ``VERDICTS`` order, then any
    other verdict a branch writes, e.g. a design check or a claim that needs missing data)."""
    counts = claims.groupby(["branch", "verdict"], sort=False).size().unstack(fill_value=0)
    others = sorted(set(counts.columns) - set(VERDICTS))
    counts = counts.reindex(columns=[*VERDICTS, *others], fill_value=0)
    counts.insert(0, "claims", counts.sum(axis=1))
    return counts.reset_index()
