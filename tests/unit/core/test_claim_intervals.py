import numpy as np
import pytest
from scipy import stats

from insilico.core.claims import decide, t_interval, verdict


def test_t_interval_matches_scipy():
    values = np.array([0.1, 0.3, 0.2, 0.4, 0.25])
    mean, low, high, n = t_interval(values)
    expected = stats.t.interval(0.95, n - 1, loc=values.mean(), scale=stats.sem(values))
    assert n == 5 and mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx(expected)


def test_nan_replicates_are_dropped_and_one_value_has_no_interval():
    mean, low, high, n = t_interval([np.nan, 2.0])
    assert (mean, n) == (2.0, 1) and np.isnan(low) and np.isnan(high)


def test_an_interval_that_excludes_zero_in_the_claimed_direction_reproduces():
    row = decide([0.10, 0.12, 0.11, 0.09], "greater")
    assert row["verdict"] == "reproduced" and row["holds"]
    assert decide([0.10, 0.12, 0.11, 0.09], "less")["verdict"] == "not reproduced"


def test_a_positive_mean_whose_interval_holds_zero_is_not_resolved():
    # the case the old rule (sign of the mean) called holding: +0.016 +- 0.017
    row = decide([0.0, 0.035, 0.013], "greater")
    assert row["value"] > 0 and row["ci_low"] < 0
    assert row["verdict"] == "not resolved" and not row["holds"]


def test_two_seeds_never_resolve_a_claim():
    assert verdict(0.1, 0.2, 2, "greater") == "not resolved"


def test_threshold_claims_are_reported_on_the_value_scale():
    row = decide([0.70, 0.72, 0.71], "greater", threshold=0.6)
    assert row["value"] == pytest.approx(0.71) and row["ci_low"] > 0.6 and row["holds"]


def test_a_direction_typo_is_an_error():
    with pytest.raises(ValueError, match="direction"):
        verdict(0.1, 0.2, 3, "larger")


def test_every_branchs_claims_gather_into_one_table_and_verdict_counts(tmp_path):
    from insilico.core.claims import gather, verdict_counts

    (tmp_path / "a.csv").write_text(
        "claim,model,value,ci_low,ci_high,n,verdict,holds,extra\n"
        "x,cnn,0.1,0.05,0.15,3,reproduced,True,1\n"
        "y,cnn,0.0,-0.1,0.1,3,not resolved,False,2\n"
    )
    (tmp_path / "b.csv").write_text(
        "claim,value,ci_low,ci_high,n,verdict\nz,-1,-2,-0.5,5,not reproduced\nw,1,,,1,design check\n"
    )
    claims = gather({"alpha": tmp_path / "a.csv", "beta": tmp_path / "b.csv"})
    assert list(claims["branch"]) == ["alpha", "alpha", "beta", "beta"]
    assert list(claims["model"].fillna("")) == ["cnn", "cnn", "", ""]
    counts = verdict_counts(claims).set_index("branch")
    assert counts.loc["alpha", ["claims", "reproduced", "not resolved"]].tolist() == [2, 1, 1]
    assert counts.loc["beta", ["not reproduced", "design check", "reproduced"]].tolist() == [
        1,
        1,
        0,
    ]


def test_a_claims_table_without_intervals_is_named(tmp_path):
    from insilico.core.claims import gather

    (tmp_path / "c.csv").write_text("claim,value,holds\nx,1,True\n")
    with pytest.raises(ValueError, match=r"c\.csv: claims table lacks the columns \['ci_high'"):
        gather({"c": tmp_path / "c.csv"})


def test_each_claim_gets_one_log_line_with_its_interval_and_model(caplog):
    import logging

    import pandas as pd

    from insilico.core.claims import log_claims

    table = pd.DataFrame(
        {"claim": ["a beats b"], "model": ["cnn"], "value": [0.5], "ci_low": [0.1]}
        | {"ci_high": [0.9], "n": [3], "verdict": ["reproduced"]}
    )
    with caplog.at_level(logging.INFO):
        log_claims(logging.getLogger("claims"), table)
        log_claims(logging.getLogger("claims"), table.drop(columns="model"))
    assert caplog.messages == [
        "a beats b [cnn]: 0.5 [0.1, 0.9] n=3 reproduced",
        "a beats b: 0.5 [0.1, 0.9] n=3 reproduced",
    ]
