"""Every mechanisms figure and table, from a miniature run of the whole analysis (all phenomena).

The figures are read back (lines, bars, points, images, titles) and compared with the Datasets they
were drawn from, the same Datasets the pipeline writes as netCDF.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from insilico.branches import validate
from insilico.core.config import load_schema, read_config_file
from insilico.mechanisms import (
    attribution,
    experiments,
    groundtruth,
    plots,
    reduction,
    stimuli,
    summary,
)
from insilico.retina.models import build_model
from insilico.retina.simulator import SimulatedRetina

REPO = Path(__file__).parents[3]
DEFAULTS = read_config_file(REPO / "config.yaml")
SIZE, HISTORY = 12, 6
DEVICE = torch.device("cpu")
RUN = ("sim01", "naturalscene", 0)
CHECKED = ["flash", "anticipation", "reversing_grating"]  # ground truth and dissection figures


# Per phenomenon, the summary drawn in the bottom row: (panel, summary variable, how it is drawn).
# "bars": one bar per cell and source; "curve": the mean over cells per condition and source.
SUMMARY = {
    "flash": (1, "polarity_index", "bars"),
    "latency": (0, "latency", "curve"),
    "omitted_stimulus": (1, "slope", "bars"),
    "anticipation": (1, "lead", "bars"),
    "reversal": (0, "burst_latency", "curve"),
    "paired_flash": (1, "first_peak", "bars"),
    "contrast_adaptation": (1, "adaptation_index", "bars"),
    "reversing_grating": (0, "doubling_index", "curve"),
    "object_motion": (1, "oms_index", "bars"),
}


@pytest.fixture
def figures(drawn):
    return drawn(plots)


def _summaries(responses: xr.Dataset, reduction: xr.Dataset | None, name: str) -> list:
    """The summary ``name`` of each source in drawing order: CNN, truth (if any), reduced CNN."""
    values = [responses[f"summary_{name}"].sel(source=s) for s in responses["source"].values]
    if reduction is not None:
        values.append(reduction[f"summary_{name}"].sel(source="reduced"))
    return values


def _largest_drive_cell(responses: xr.Dataset) -> str:
    source = "truth" if "truth" in responses["source"].values else "cnn"
    rates = responses["rate"].sel(source=source)
    drive = np.abs(rates - responses["rest_rate"].sel(source=source)).max(("condition", "time"))
    return str(responses["cell"].values[int(drive.argmax())])


@pytest.fixture(scope="module")
def analysis():
    """Responses, attributions, reductions and ground truth of a random CNN for every phenomenon."""
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    tiny = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())["mechanisms"]["stimuli"]
    params = validate({"mechanisms": {"stimuli": tiny}}, schema, DEFAULTS)["mechanisms"]["stimuli"]
    torch.manual_seed(0)
    model = build_model(
        "cnn", history=HISTORY, size=SIZE, n_cells=4, channels=[3, 3], kernels=[5, 3]
    )
    with torch.no_grad():
        model.init_output_bias(torch.full((4,), 5.0))
    model.eval()
    meta = {
        "history": HISTORY,
        "size": SIZE,
        "cell_names": ["cell01", "cell02", "cell03", "cell04"],
        "stimulus_mean": 127.0,
        "stimulus_std": 90.0,
    }
    retina = SimulatedRetina(
        {
            "size": SIZE,
            "cell_types": ["off_fast", "off_slow", "on", "on_off"],
            "cells_per_type": 1,
            "subunit_spacing": 2,
            "max_rate": 60,
            "saccade_seconds": 1.0,
            "jitter_px": 0.5,
        },
        seed=1,
    )
    offsets = groundtruth.receptive_field_offsets(model, meta)
    out = {"responses": {}, "attribution": {}, "reduction": {}, "groundtruth": {}}
    for phenomenon in stimuli.PHENOMENA:
        stimulus = stimuli.render(phenomenon, params[phenomenon], SIZE, HISTORY)
        responses = experiments.run_experiment(
            stimulus, model=model, meta=meta, retina=retina, min_response=0.05
        )
        attributed = attribution.attribute(
            model, meta, stimulus, steps=2, batch_size=4096, device=DEVICE
        )
        reduced = reduction.reduce(
            model,
            meta,
            stimulus,
            attributed,
            tolerance=0.2,
            min_response=0.05,
            batch_size=4096,
            device=DEVICE,
        )
        rate = reduced["reduced_rate"].expand_dims(source=["reduced"])
        rest = responses["rest_rate"].sel(source=["cnn"]).assign_coords(source=["reduced"])
        reduced = reduced.merge(
            experiments.summarise(rate, rest, responses, 0.05), compat="override"
        )
        out["responses"][phenomenon] = responses
        out["attribution"][phenomenon] = attributed
        out["reduction"][phenomenon] = reduced
        if phenomenon not in CHECKED:
            continue
        out["groundtruth"][phenomenon] = groundtruth.check(
            model,
            meta,
            responses,
            attributed,
            reduced,
            retina,
            offsets=offsets,
            permutations=20,
            shuffles=20,
            alpha=0.05,
            seed=0,
            batch_size=4096,
            device=DEVICE,
        )
    return out


@pytest.mark.parametrize("phenomenon", sorted(stimuli.PHENOMENA))
def test_phenomenon_figure(analysis, tmp_path, figures, phenomenon, artists):
    responses = analysis["responses"][phenomenon]
    reduction = analysis["reduction"][phenomenon]
    plots.phenomenon_figure(responses, reduction, tmp_path / f"{phenomenon}.png", "(test)")
    fig = figures[phenomenon]
    assert fig.get_suptitle() == f"{plots.TITLES[phenomenon]} (test)"
    cnn_axis, truth_axis, *bottom = fig.axes
    cell = _largest_drive_cell(responses)
    assert plots.example_cell(responses) == cell
    shown = plots._shown_conditions(responses, cell)
    offsets, xlabel = plots._alignment(responses)
    time_ms = responses["time"].values * 1000
    traces = {
        cnn_axis: responses["rate"].sel(source="cnn", cell=cell).values[shown],
        truth_axis: responses["rate"].sel(source="truth", cell=cell).values[shown],
    }
    for ax, rates in traces.items():
        assert ax.get_title().endswith(f", {cell}") and ax.get_xlabel() == xlabel
        for line, rate, offset in zip(ax.get_lines(), rates, offsets[shown], strict=False):
            np.testing.assert_allclose(line.get_ydata(), rate)
            np.testing.assert_allclose(line.get_xdata(), time_ms - offset)
    reduced = cnn_axis.get_lines()[len(shown) : 2 * len(shown)]  # dotted, after the CNN traces
    for line, rate in zip(
        reduced, reduction["reduced_rate"].sel(cell=cell).values[shown], strict=True
    ):
        np.testing.assert_allclose(line.get_ydata(), rate)
    assert truth_axis.get_ylim() == cnn_axis.get_ylim()  # CNN and truth on one scale

    panel, name, kind = SUMMARY[phenomenon]
    ax = bottom[panel]
    expected = _summaries(responses, reduction, name)
    if kind == "bars":
        bars = artists.bars(ax)
        assert len(bars) == 3
        for heights, values in zip(bars, expected, strict=True):
            np.testing.assert_allclose(heights, values.transpose("cell").values)
        assert artists.ticks(ax) == list(responses["cell"].values)
    else:
        means = artists.labelled(ax, "(mean over cells)")
        assert len(means) == 3
        for line, values in zip(means, expected, strict=True):
            mean = values.mean("cell", skipna=True).values
            np.testing.assert_allclose(line.get_ydata(), mean[: len(line.get_ydata())])


def test_phenomenon_figure_without_ground_truth(analysis, tmp_path, figures, artists):
    responses = analysis["responses"]["latency"].sel(source=["cnn"])
    plots.phenomenon_figure(responses, None, tmp_path / "latency.png")
    cnn_axis, truth_axis, curve, _ = figures["latency"].axes
    assert not truth_axis.axison
    assert [t.get_text() for t in truth_axis.texts] == ["no ground truth\n(data not simulated)"]
    cell = _largest_drive_cell(responses)  # chosen from the CNN when there is no truth
    assert len(cnn_axis.get_lines()) == responses.sizes["condition"]  # no reduced traces
    np.testing.assert_allclose(
        cnn_axis.get_lines()[0].get_ydata(), responses["rate"].sel(source="cnn", cell=cell)[0]
    )
    (mean,) = artists.labelled(curve, "(mean over cells)")
    np.testing.assert_allclose(mean.get_xdata(), responses["intensity"].values)
    np.testing.assert_allclose(
        mean.get_ydata(), responses["summary_latency"].sel(source="cnn").mean("cell")
    )


def _checked(analysis, kind):
    return {p: analysis[kind][p] for p in CHECKED}


def test_attribution_figure(analysis, tmp_path, figures):
    plots.attribution_figure(
        _checked(analysis, "attribution"), analysis["responses"], tmp_path / "attribution.png"
    )
    axes = np.array(figures["attribution"].axes).reshape(len(CHECKED), 3)
    for (rate_axis, *layer_axes), phenomenon in zip(axes, CHECKED, strict=True):
        data = analysis["attribution"][phenomenon]
        cell = _largest_drive_cell(analysis["responses"][phenomenon])
        drive = np.abs(data["rate"].sel(cell=cell) - data["baseline_rate"].sel(cell=cell))
        condition = int(drive.max("time").argmax("condition"))
        assert rate_axis.get_title().endswith(f"{cell}, condition {condition}")
        attribution = data["attribution"].sel(cell=cell).isel(condition=condition)
        rate, *sums = rate_axis.get_lines()
        np.testing.assert_allclose(rate.get_ydata(), data["rate"].sel(cell=cell)[condition])
        baseline = float(data["baseline_rate"].sel(cell=cell))
        for line, ax, layer in zip(sums, layer_axes, (1, 2), strict=True):
            channels = attribution.where(data["channel_layer"] == layer, drop=True)
            np.testing.assert_allclose(line.get_ydata(), baseline + channels.sum("channel"))
            drawn = ax.get_lines()[: channels.sizes["channel"]]
            for channel_line, channel in zip(drawn, channels["channel"].values, strict=True):
                assert channel_line.get_label().startswith(f"{channel} (rank ")
                np.testing.assert_allclose(channel_line.get_ydata(), channels.sel(channel=channel))


def test_reduction_figure(analysis, tmp_path, figures, artists):
    reductions = _checked(analysis, "reduction")
    plots.reduction_figure(reductions, analysis["responses"], tmp_path / "reduction.png")
    summary_axis, *rows = figures["reduction"].axes
    assert artists.ticks(summary_axis, "y") == CHECKED
    points = artists.points(summary_axis)
    for layer in (1, 2):  # per layer: one scatter per phenomenon, then the channel totals
        per_phenomenon = points[(layer - 1) * (len(CHECKED) + 1) :][: len(CHECKED)]
        for offsets, phenomenon in zip(per_phenomenon, CHECKED, strict=True):
            kept = reductions[phenomenon]["n_kept"].sel(layer=layer).values
            np.testing.assert_allclose(offsets[:, 0], kept)
    for (curve_axis, rate_axis), phenomenon in zip(
        np.array(rows).reshape(-1, 2), CHECKED, strict=True
    ):
        data = reductions[phenomenon]
        cell = _largest_drive_cell(analysis["responses"][phenomenon])
        for line, layer in zip(curve_axis.get_lines(), (1, 2), strict=False):
            curve = data["pruning_curve"].sel(cell=cell, layer=layer).dropna("n_removed")
            np.testing.assert_allclose(line.get_ydata(), curve)
        (reduced,) = artists.labelled(rate_axis, " channels)")
        kept = data["n_kept"].sel(cell=cell).values
        assert reduced.get_label() == f"reduced CNN ({kept[0]} + {kept[1]} channels)"
        assert any(
            np.allclose(reduced.get_ydata(), rate) for rate in data["reduced_rate"].sel(cell=cell)
        )


def test_groundtruth_figure(analysis, tmp_path, figures, artists):
    truths = analysis["groundtruth"]
    plots.groundtruth_figure(truths, tmp_path / "groundtruth.png")
    matrix_axis, _colorbar, *scores = figures["groundtruth"].axes
    (image,) = matrix_axis.get_images()
    mean = np.mean([truths[p]["correlation"].values for p in CHECKED], axis=0)
    np.testing.assert_allclose(image.get_array(), mean)
    panels = [(1, "precision", "chance"), (1, "overlap", "overlap_chance")]
    panels += [(2, "precision", "chance"), (2, "overlap", "overlap_chance")]
    for ax, (layer, score, chance) in zip(scores, panels, strict=True):
        attributed, chance_bars = artists.bars(ax)
        expect = [float(truths[p][f"mean_{score}"].sel(layer=layer)) for p in CHECKED]
        np.testing.assert_allclose(attributed, expect)
        expect = [float(truths[p][f"mean_{chance}"].sel(layer=layer)) for p in CHECKED]
        np.testing.assert_allclose(chance_bars, expect)
        assert ax.get_title().startswith(f"Layer {layer}: ")


def test_tables(analysis):
    runs = {kind: {RUN: per_phenomenon} for kind, per_phenomenon in analysis.items()}
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    tolerances = validate({}, schema, DEFAULTS)["mechanisms"]["agreement"]
    responses = {RUN: {}}
    for i, (name, data) in enumerate(runs["responses"][RUN].items()):
        numbers = json.loads(data.attrs["key_numbers"])  # a null at the truth, or 3 tolerances off
        offset = {q: 3 * tolerances[name][q] * (i % 2) for q in numbers["truth"]}
        numbers["null"] = {q: v + offset[q] for q, v in numbers["truth"].items()}
        responses[RUN][name] = data.copy()
        responses[RUN][name].attrs = {**data.attrs, "key_numbers": json.dumps(numbers)}
    phenomena = summary.phenomena_table(responses, runs["reduction"], tolerances, 0.5)
    assert set(phenomena["phenomenon"]) == set(stimuli.PHENOMENA)
    assert {"quantity", "cnn", "truth", "reduced_cnn", "null", "testable"} <= set(phenomena.columns)
    # Untestable where the null sits at the truth; else pass when at most half the null's distance.
    distance = (phenomena["null"] - phenomena["truth"]).abs()
    assert (phenomena["testable"] == (distance > phenomena["tolerance"])).all()
    assert phenomena["testable"].any() and not phenomena["testable"].all()
    expected = phenomena["testable"] & (
        (phenomena["cnn"] - phenomena["truth"]).abs() <= distance / 2
    )
    assert (phenomena["cnn_pass"] == expected).all()
    untestable = ~phenomena["testable"] & phenomena["truth"].notna()
    assert phenomena.loc[untestable, "null_within_tolerance"].all()
    with pytest.raises(ValueError, match="no agreement tolerance for flash"):
        summary.phenomena_table(runs["responses"], runs["reduction"], {}, 0.5)
    table = summary.attribution_table(runs["attribution"])
    assert len(table) == len(stimuli.PHENOMENA)
    assert (table["relative_completeness_error"] >= 0).all()
    assert table["top_layer1"].str.startswith("L1C").all()
    reduced = summary.reduction_table(runs["reduction"])
    assert (reduced["layer1_kept_median"] <= reduced["layer1_channels"]).all()
    truth = summary.groundtruth_table(runs["groundtruth"])
    assert len(truth) == 2 * len(CHECKED)
    assert truth["recovered"].dtype == bool
    assert np.isfinite(truth["chance"]).any()


def test_the_element_null_decides_only_where_it_tests_something(analysis):
    """Per phenomenon the element null sits at the truth, at the intact control, or three
    tolerances from the truth: the first two are untestable and leave the verdict to the LN
    null; the third must be beaten by the margin as well."""
    runs = {kind: {RUN: per_phenomenon} for kind, per_phenomenon in analysis.items()}
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    tolerances = validate({}, schema, DEFAULTS)["mechanisms"]["agreement"]
    responses = {RUN: {}}
    for i, (name, data) in enumerate(runs["responses"][RUN].items()):
        numbers = json.loads(data.attrs["key_numbers"])
        truth, tol = numbers["truth"], tolerances[name]
        numbers["null"] = {q: v + 5 * tol[q] for q, v in truth.items()}  # LN: always testable
        numbers["element_null"] = [
            dict(truth),
            dict(numbers["cnn"]),
            {q: v - 3 * tol[q] for q, v in truth.items()},
        ][i % 3]
        responses[RUN][name] = data.copy()
        responses[RUN][name].attrs = {
            **data.attrs,
            "key_numbers": json.dumps(numbers),
            "element": "amacrine",
        }
    table = summary.phenomena_table(responses, runs["reduction"], tolerances, 0.5)
    assert (table["element"] == "amacrine").all()
    off_truth = (table["element_null"] - table["truth"]).abs() > table["tolerance"]
    off_intact = (table["element_null"] - table["cnn"]).abs() > table["tolerance"]
    assert (table["element_testable"] == (off_truth & off_intact)).all()
    order = {name: i % 3 for i, name in enumerate(runs["responses"][RUN])}
    kind = table["phenomenon"].map(order)
    assert not table.loc[kind < 2, "element_testable"].any()
    assert table.loc[kind == 2, "element_testable"].any()
    beats_ln = (table["cnn"] - table["truth"]).abs() <= (table["null"] - table["truth"]).abs() / 2
    beats_element = (table["cnn"] - table["truth"]).abs() <= (
        table["element_null"] - table["truth"]
    ).abs() / 2
    expected = table["testable"] & beats_ln & (~table["element_testable"] | beats_element)
    assert (table["cnn_pass"] == expected).all()
    assert table.loc[kind == 0, "element_null_within_tolerance"].all()


def test_power_curve_figure(tmp_path, figures, artists):
    """The controls' recovery against distractor strength, sorted; the fitted CNN as a level."""
    rows = [
        ("control", "control", 0, 0.0, 0.9, 0.5),
        ("dense_control", "dense100", 0, 1.0, 0.2, 0.05),
        ("dense_control", "dense50", 0, 0.5, 0.6, 0.3),
        ("cnn", "naturalscene", 0, None, 0.1, 0.02),
        ("cnn", "naturalscene", "all", None, 0.1, np.nan),
    ]
    recovery = pd.DataFrame(
        rows, columns=["model", "stimulus", "seed", "strength", "fraction", "excess_precision"]
    ).assign(experiment="sim01")
    recovery["excess_precision_ci_low"] = recovery["excess_precision"] - 0.1
    recovery["excess_precision_ci_high"] = recovery["excess_precision"] + 0.1
    plots.power_curve_figure(recovery, tmp_path / "power.png")
    fraction, excess = figures["power"].axes
    curve = fraction.get_lines()[0]
    np.testing.assert_allclose(curve.get_xdata(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(curve.get_ydata(), [0.9, 0.6, 0.2])
    (bars,) = artists.errorbars(excess)
    np.testing.assert_allclose(bars.get_ydata(), [0.5, 0.3, 0.05])
    (level,) = artists.labelled(fraction, "seed 0")
    np.testing.assert_allclose(level.get_ydata(), [0.1, 0.1])
