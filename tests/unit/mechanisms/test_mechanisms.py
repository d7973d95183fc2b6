"""Attribution (completeness, agreement with a direct computation), the reduction loop, the
phenomenon summaries and the ground-truth check, on a tiny random CNN and a tiny simulated retina."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from insilico.mechanisms import attribution, experiments, groundtruth, reduction, stimuli
from insilico.retina.inference import predict
from insilico.retina.models import build_model
from insilico.retina.simulator import SimulatedRetina

SIZE, HISTORY, CELLS = 12, 6, 3
FLASH = {"pre_frames": 3, "flash_frames": 3, "step_frames": 12, "post_frames": 6, "contrast": 1.0}
RETINA = {
    "size": SIZE,
    "train_seconds": 10,
    "test_seconds": 2,
    "repeats": 2,
    "cell_types": ["off_fast", "off_slow", "on", "on_off"],
    "cells_per_type": 1,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}
DEVICE = torch.device("cpu")


def random_cnn(seed: int = 0, batchnorm: bool = True):
    """A small CNN with non-trivial batch-norm statistics and rates of a few Hz."""
    torch.manual_seed(seed)
    model = build_model(
        "cnn",
        history=HISTORY,
        size=SIZE,
        n_cells=CELLS,
        channels=[3, 3],
        kernels=[5, 3],
        batchnorm=batchnorm,
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.3)
        model.init_output_bias(torch.full((CELLS,), 5.0))
    model.eval()
    meta = {
        "kind": "cnn",
        "history": HISTORY,
        "size": SIZE,
        "n_cells": CELLS,
        "cell_names": [f"cell{i:02d}" for i in range(1, CELLS + 1)],
        "stimulus_mean": 127.0,
        "stimulus_std": 90.0,
    }
    return model, meta


@pytest.fixture(scope="module")
def cnn():
    return random_cnn()


@pytest.fixture(scope="module")
def retina():
    return SimulatedRetina(RETINA, seed=4)


@pytest.fixture(scope="module")
def flash():
    return stimuli.render("flash", FLASH, SIZE, HISTORY)


# -- attribution ------------------------------------------------------------------------------


def test_integrated_gradients_are_complete(cnn, flash):
    """Each layer's attributions sum to rate - baseline rate, the better the more steps."""
    model, meta = cnn
    flash = flash.isel(condition=[0, 3])  # a bright flash and a dark step
    fine = attribution.attribute(model, meta, flash, steps=512, batch_size=8192, device=DEVICE)
    coarse = attribution.attribute(model, meta, flash, steps=2, batch_size=8192, device=DEVICE)
    drive = fine["rate"] - fine["baseline_rate"]
    assert float(np.abs(drive).max()) > 0.1, "the test needs a CNN that responds"
    # ReLU kinks make the error shrink about as 1 / steps: 14 % at 2 steps, 0.15 % at 512.
    assert fine.attrs["relative_completeness_error"] < 3e-3
    assert coarse.attrs["relative_completeness_error"] > fine.attrs["relative_completeness_error"]
    for layer in (1, 2):
        total = fine["attribution"].where(fine["channel_layer"] == layer, 0).sum("channel")
        np.testing.assert_allclose(total, drive, atol=3e-3 * float(np.abs(drive).max()))


def test_path_trick_matches_a_direct_computation(cnn, flash):
    """Expanding the first layer's output along the path equals running every path input."""
    model, meta = cnn
    steps = 8
    windows = attribution.Windows(flash, meta, DEVICE)
    index = np.flatnonzero(~windows.grey)[:4]
    x = windows(index)
    with attribution.frozen(model):
        fast, rate, base = attribution._path_ig(model, x, windows.baseline, steps)
    alphas = torch.linspace(0, 1, steps + 1)
    path = windows.baseline + alphas[:, None, None, None, None] * (x - windows.baseline)[None]
    path = path.transpose(0, 1).reshape(-1, *x.shape[1:]).requires_grad_(True)
    with attribution.frozen(model), attribution.probe(model) as activity:
        rates = model(path)
        hidden = [activity[layer] for layer in attribution.HIDDEN_LAYERS]
        for cell in range(CELLS):
            grads = torch.autograd.grad(rates[:, cell].sum(), hidden, retain_graph=True)
            for layer, h, g in zip(attribution.HIDDEN_LAYERS, hidden, grads, strict=True):
                h = h.detach().reshape(len(index), steps + 1, *h.shape[1:])
                g = g.reshape(h.shape)
                direct = ((g[:, 1:] + g[:, :-1]) / 2 * (h[:, 1:] - h[:, :-1])).sum(dim=(1, 3, 4))
                torch.testing.assert_close(fast[layer][:, cell], direct, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(rate, rates.detach().reshape(len(index), steps + 1, -1)[:, -1])
    torch.testing.assert_close(base, model(windows.baseline)[0].detach())


def test_grey_windows_get_no_attribution_and_the_model_is_left_as_it_was(cnn, flash):
    model, meta = cnn
    flags = [p.requires_grad for p in model.parameters()]
    result = attribution.attribute(model, meta, flash, steps=4, batch_size=512, device=DEVICE)
    grey = attribution.Windows(flash, meta, DEVICE).grey.reshape(flash.sizes["condition"], -1)
    assert grey[:, 0].all() and not grey.all(), "early windows see only the grey pad"
    values = result["attribution"].values.transpose(0, 3, 1, 2)[grey]
    assert (values == 0).all()
    rate = result["rate"].values.transpose(0, 2, 1)[grey]
    np.testing.assert_allclose(rate, np.broadcast_to(result["baseline_rate"], rate.shape))
    assert [p.requires_grad for p in model.parameters()] == flags and not model.training
    for name in ("conv1", "act1", "act2"):
        assert not getattr(model, name)._forward_hooks, "hooks must be removed"
    for layer in (1, 2):
        ranks = result["rank"].where(result["channel_layer"] == layer, drop=True).values
        assert (np.sort(ranks, axis=1) == np.arange(3)).all()
    assert list(result["channel"].values) == ["L1C0", "L1C1", "L1C2", "L2C0", "L2C1", "L2C2"]


def test_model_in_training_mode_is_attributed_in_eval_mode_and_restored(flash):
    model, meta = random_cnn(seed=1)
    reference = attribution.attribute(model, meta, flash, steps=2, batch_size=512, device=DEVICE)
    model.train()
    again = attribution.attribute(model, meta, flash, steps=2, batch_size=512, device=DEVICE)
    assert model.training
    np.testing.assert_allclose(again["attribution"], reference["attribution"])


# -- reduction --------------------------------------------------------------------------------


def test_masks_keep_or_clamp_channels(cnn, flash):
    model, meta = cnn
    windows = attribution.Windows(flash, meta, DEVICE)
    index = np.arange(len(windows))
    with attribution.frozen(model), torch.no_grad():
        fill = attribution.grey_activity(model, windows)
        keep = {1: torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])}
        rates = reduction.masked_rates(model, windows, index, keep, fill, batch_size=64)
        plain = model(windows(index))
        grey = model(windows.baseline)[0]
    torch.testing.assert_close(rates[0], plain)
    torch.testing.assert_close(rates[1], grey.expand_as(plain))


def test_reduction_removes_exactly_the_channels_that_do_not_matter(flash):
    """With tolerance 0 only removals that leave the response unchanged are accepted."""
    model, meta = random_cnn(seed=2, batchnorm=False)
    with torch.no_grad():
        model.conv2.weight[:, 2] = 0  # first-layer channel 2 feeds nothing
    result = attribution.attribute(model, meta, flash, steps=8, batch_size=2048, device=DEVICE)
    layer1 = result["importance"].sel(channel="L1C2").values
    assert (layer1 == 0).all()
    reduced = reduction.reduce(
        model,
        meta,
        flash,
        result,
        tolerance=0.0,
        min_response=0.1,
        batch_size=2048,
        device=DEVICE,
    )
    keep = reduced["keep"].to_pandas()
    assert not keep["L1C2"].any(), "the unused channel is pruned for every cell"
    assert (reduced["n_kept"].sel(layer=1) >= 1).all()
    assert (reduced["explained_variance"] >= 1 - 1e-6).all()
    np.testing.assert_allclose(reduced["reduced_rate"], result["rate"], atol=1e-4)
    curve = reduced["pruning_curve"].sel(layer=1).values
    assert np.allclose(curve[:, :2], 1.0), "removing nothing, then only the dead channel"


def test_reduction_with_a_loose_tolerance_keeps_fewer_channels(cnn, flash):
    model, meta = cnn
    result = attribution.attribute(model, meta, flash, steps=4, batch_size=2048, device=DEVICE)
    kwargs = {"min_response": 0.1, "batch_size": 2048, "device": DEVICE}
    strict = reduction.reduce(model, meta, flash, result, tolerance=0.01, **kwargs)
    loose = reduction.reduce(model, meta, flash, result, tolerance=0.5, **kwargs)
    assert (loose["n_kept"] <= strict["n_kept"]).all()
    assert (loose["explained_variance"] >= 0.5 - 1e-6).all()
    assert (strict["explained_variance"] >= 0.99 - 1e-6).all()
    with pytest.raises(ValueError, match="tolerance"):
        reduction.reduce(model, meta, flash, result, tolerance=1.0, **kwargs)


def test_explained_variance_floor():
    full = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    assert float(reduction.explained(full, full, floor=0.0)) == 1.0
    flat = torch.zeros(1, 4)
    assert float(reduction.explained(flat + 0.1, flat, floor=1.0)) == pytest.approx(1 - 0.01)


# -- experiments ------------------------------------------------------------------------------


def test_cnn_rates_align_with_predict_per_condition(cnn, flash):
    model, meta = cnn
    rates = experiments.cnn_rates(model, meta, flash)
    assert rates.shape == (4, CELLS, flash.sizes["time"])
    for condition, movie in enumerate(flash["movie"].values):
        np.testing.assert_allclose(rates[condition], predict(model, meta, movie), rtol=1e-6)
    rest = experiments.cnn_rest(model, meta)
    np.testing.assert_allclose(rates[:, :, 0], np.broadcast_to(rest, (4, CELLS)), rtol=1e-6)


def test_run_experiment_with_ground_truth(cnn, retina, flash):
    model, meta = cnn
    out = experiments.run_experiment(flash, model=model, meta=meta, retina=retina, min_response=1)
    assert list(out["source"].values) == ["cnn", "truth"]
    assert out["rate"].dims == ("source", "condition", "cell", "time")
    assert (out["rate"] >= 0).all()
    truth = out["rate"].sel(source="truth")
    np.testing.assert_allclose(truth.isel(time=0), np.broadcast_to(out["rest_rate"][1], (4, 3)))
    numbers = json.loads(out.attrs["key_numbers"])
    assert set(numbers) == {"cnn", "truth"} and "flash_on_latency_ms" in numbers["truth"]
    # The simulated OFF cells answer a dark flash, the ON cell a bright one.
    polarity = out["summary_polarity_index"].sel(source="truth").values
    assert polarity[0] < 0 and polarity[1] < 0 and polarity[2] > 0
    assert experiments.truth_cell_indices(["cell01", "cell12"]) == [0, 11]
    with pytest.raises(ValueError, match="cellNN"):
        experiments.truth_cell_indices(["ganglion1"])


def bump(n_time: int, at: np.ndarray, height: float = 20.0, rest: float = 2.0) -> np.ndarray:
    """Rates (len(at), n_time) with a narrow peak at frame ``at[i]``."""
    t = np.arange(n_time)
    return rest + height * np.exp(-0.5 * ((t[None] - np.asarray(at)[:, None]) / 1.5) ** 2)


def test_latency_summary_reads_the_peak_time():
    stim = stimuli.render(
        "latency",
        {"pre_frames": 5, "step_frames": 30, "intensities": [0.2, 0.5, 1.0]},
        SIZE,
        HISTORY,
    )
    rate = bump(35, at=[5 + 12, 5 + 9, 5 + 6])[:, None, :].repeat(2, axis=1)
    rate[:, 1] = 2.0  # a cell that does not respond
    summary = experiments.summarise_latency(rate, np.full(2, 2.0), stim, 1.0)
    assert summary["latency"].values[:, 0] == pytest.approx([120, 90, 60])
    assert np.isnan(summary["latency"].values[:, 1]).all()


def test_omitted_stimulus_summary_tells_prediction_from_rebound():
    params = {
        "pre_frames": 2,
        "periods": [4, 6, 8],
        "flash_frames": 1,
        "n_flashes": 3,
        "contrast": -1.0,
        "post_frames": 20,
    }
    stim = stimuli.render("omitted_stimulus", params, SIZE, HISTORY)
    omitted = stim["omitted_frame"].values
    last = stim["last_flash_frame"].values
    predictive = bump(stim.sizes["time"], at=omitted + 5)
    rebound = bump(stim.sizes["time"], at=last + 9)
    rate = np.stack([predictive, rebound], axis=1)
    summary = experiments.summarise_omitted_stimulus(rate, np.full(2, 2.0), stim, 1.0)
    assert summary["burst_latency"].values[:, 0] == pytest.approx([50, 50, 50])
    assert summary["slope"].values == pytest.approx([1.0, 0.0], abs=1e-9)


def test_anticipation_summary_measures_the_lead():
    params = {
        "bar_width": 2,
        "speed": 0.5,
        "contrast": -1.0,
        "pre_frames": 2,
        "flash_frames": 2,
        "post_frames": 10,
        "flash_spacing": 1,
    }
    stim = stimuli.render("anticipation", params, SIZE, HISTORY)
    n_time = stim.sizes["time"]
    positions = stim["position"].values[1:]
    # One cell at 6 px: flashes answered after 4 frames, the moving bar's peak when the bar is at 5.
    flashes = 2.0 + 20 * np.exp(-0.5 * ((positions - 6) / 1.0) ** 2)[:, None] * bump(
        n_time, at=[2 + 4] * len(positions), rest=0.0, height=1.0
    )
    bar = stim["bar_position"].values[0]
    at_five = int(np.nanargmin(np.abs(bar - 5.0)))
    rate = np.concatenate([bump(n_time, at=[at_five]), flashes])[:, None, :]
    summary = experiments.summarise_anticipation(rate, np.array([2.0]), stim, 1.0)
    assert float(summary["rf_position"][0]) == pytest.approx(6.0, abs=0.05)
    assert float(summary["flash_latency"][0]) == 40
    assert float(summary["lead"][0]) == pytest.approx(1.0, abs=0.3)
    assert float(summary["expected_lead"][0]) == pytest.approx(-2.0)


def test_grating_summary_separates_linear_from_frequency_doubling():
    params = {
        "bar_widths": [2],
        "n_phases": 1,
        "half_period_frames": 10,
        "cycles": 3,
        "contrast": 1.0,
    }
    stim = stimuli.render("reversing_grating", params, SIZE, HISTORY)
    t = np.arange(60)
    linear = 10 + 5 * np.cos(2 * np.pi * t / 20)
    doubling = 10 + 5 * np.cos(2 * np.pi * t / 10)
    rate = np.stack([linear, doubling])[None]
    summary = experiments.summarise_reversing_grating(rate, np.full(2, 2.0), stim, 1.0)
    assert summary["f1"].values[0] == pytest.approx([5, 0], abs=1e-9)
    assert summary["f2"].values[0] == pytest.approx([0, 5], abs=1e-9)
    assert (
        summary["doubling_index"].values[0, 0] < 1e-6 < 1 < summary["doubling_index"].values[0, 1]
    )


def test_paired_flash_adaptation_and_object_motion_indices():
    paired = stimuli.render(
        "paired_flash",
        {
            "pre_frames": 2,
            "flash_frames": 1,
            "intervals": [10],
            "contrast": -1.0,
            "post_frames": 20,
        },
        SIZE,
        HISTORY,
    )
    single = bump(paired.sizes["time"], at=[6])[0]
    pair = single + bump(paired.sizes["time"], at=[16], height=10, rest=0)[0]
    summary = experiments.summarise_paired_flash(
        np.stack([single, pair])[:, None], np.array([2.0]), paired, 1.0
    )
    assert summary["ratio"].values[1, 0] == pytest.approx(0.5, abs=0.01)

    adaptation = stimuli.render(
        "contrast_adaptation",
        {
            "low_contrast": 0.1,
            "high_contrast": 0.3,
            "low_frames": 20,
            "high_frames": 50,
            "repeats": 1,
            "seed": 0,
        },
        SIZE,
        HISTORY,
    )
    rate = np.full((1, 1, 90), 2.0)
    rate[0, 0, 20:70] = 2 + 18 * np.exp(-np.arange(50) / 10)
    summary = experiments.summarise_contrast_adaptation(rate, np.array([2.0]), adaptation, 1.0)
    assert float(summary["adaptation_index"][0]) > 0.5

    motion = stimuli.render(
        "object_motion",
        {
            "bar_width": 2,
            "object_half_width": 2,
            "jitter_px": 0.5,
            "frames": 10,
            "trials": 1,
            "contrast": 1.0,
            "seed": 0,
        },
        SIZE,
        HISTORY,
    )
    rate = np.stack([np.full((1, 10), 5.0), np.full((1, 10), 15.0)])
    summary = experiments.summarise_object_motion(rate, np.array([2.0]), motion, 1.0)
    assert float(summary["oms_index"][0]) == pytest.approx(0.5)


# -- ground truth -----------------------------------------------------------------------------


def test_interpolation_reads_the_subunit_grid(retina):
    coords = np.unique(retina.subunit_positions[:, 0])
    matrix = groundtruth.interpolation_matrix(retina, coords, coords)
    np.testing.assert_allclose(matrix, np.eye(len(coords) ** 2), atol=1e-12)
    between = groundtruth.interpolation_matrix(retina, np.array([-3.0, 4.0]), np.array([4.0]))
    np.testing.assert_allclose(between.sum(1), 1.0)


def test_identification_recognises_a_channel_that_is_a_true_signal(retina, flash):
    signals = groundtruth.true_signals(retina, flash)  # (signal, cond, time, rows, cols)
    offsets = {1: np.array([[2.0, 2.0], [2.0, 2.0]]), 2: np.array([[3.0, 3.0]])}
    matrix = groundtruth.interpolation_matrix(retina, 2.0 + np.arange(6), 2.0 + np.arange(6))
    flat = signals.reshape(signals.shape[0], -1, signals.shape[-2] * signals.shape[-1])
    on = groundtruth.signal_names(retina).index("bipolar_on")
    copy = (flat[on] @ matrix.T).reshape(-1, 6, 6)
    activity = {
        1: np.stack([copy, -copy], axis=1),
        2: np.random.default_rng(0).random((copy.shape[0], 1, 4, 4)),
    }
    correlation = groundtruth.identify(activity, offsets, signals, retina)
    assert correlation.shape == (3, 5)
    assert correlation[0, on] == pytest.approx(1.0)
    assert correlation[1, on] == pytest.approx(-1.0)


def test_pathways_follow_the_simulator_wiring(retina):
    wired = groundtruth.pathways(retina, [0, 2, 3])  # off_fast, on, on_off
    names = groundtruth.signal_names(retina)
    # The slow OFF bipolar reaches a fast OFF cell through the OFF amacrine, which pools both.
    assert [n for n, w in zip(names, wired[0], strict=True) if w] == [
        "bipolar_off_fast",
        "bipolar_off_slow",
        "amacrine_off",
    ]
    assert [n for n, w in zip(names, wired[1], strict=True) if w] == ["bipolar_on", "amacrine_on"]
    assert wired[2].sum() == 5  # ON-OFF: both amacrines pool every bipolar type between them
    assert [groundtruth.polarity(n) for n in names] == ["OFF", "OFF", "ON", "OFF", "ON"]


def test_projected_share_passes_missing_amacrine_shares_to_their_bipolar_inputs(retina):
    names = groundtruth.signal_names(retina)
    share = np.zeros((1, len(names)))
    share[0, names.index("bipolar_off_fast")] = 0.4
    share[0, names.index("amacrine_off")] = 0.6
    bipolar_layer = np.array([0, 1, 2])  # identities of a layer of bipolar-like channels
    seen = groundtruth.projected_share(retina, share, bipolar_layer)[0]
    assert seen[names.index("bipolar_off_fast")] == pytest.approx(0.7)
    assert seen[names.index("bipolar_off_slow")] == pytest.approx(0.3)
    assert seen[names.index("amacrine_off")] == 0.0
    with_amacrine = np.array([0, names.index("amacrine_off")])
    np.testing.assert_allclose(groundtruth.projected_share(retina, share, with_amacrine), share)


def _null_layer(rng, n_cells=10, n_channels=8, n_signals=5):
    """A layer under the null: channel gains shared by every cell (the same channels dominate
    each one), identities drawn at random, nothing linking identity to importance."""
    gains = rng.lognormal(0.0, 1.0, n_channels)
    importance = gains * rng.lognormal(0.0, 0.2, (n_cells, n_channels))
    kept = importance >= np.sort(importance, 1)[:, [-3]]  # the top 3 channels of each cell
    identity = rng.integers(0, n_signals, n_channels)
    wired = np.pad(rng.random((n_cells, n_signals)) < 0.4, ((0, 0), (0, 1)))
    seen = rng.dirichlet(np.ones(n_signals), n_cells) * wired[:, :-1]
    seen /= np.maximum(seen.sum(1, keepdims=True), 1e-12)
    return kept, importance, identity, wired, seen


def test_joint_permutation_test_rejects_at_the_nominal_rate_on_a_null_simulation():
    rng = np.random.default_rng(0)
    rejections = []
    for seed in range(600):
        test = groundtruth.permutation_test(
            *_null_layer(rng), permutations=400, shuffles=0, seed=seed
        )
        rejections.append(test["p"] < 0.05)
    rate = np.mean(rejections, axis=0)  # precision test, overlap test
    assert ((rate >= 0.03) & (rate <= 0.07)).all(), rate


def test_shuffled_identities_reject_near_alpha_and_true_ones_far_above():
    """The negative control (identities shuffled, >= 100 shuffles) stays near alpha while the
    true identities of a clearly wired layer are found."""
    rng = np.random.default_rng(1)
    n_cells, n_channels = 10, 8
    identity = np.arange(n_channels) % 5
    wired = np.pad(rng.random((n_cells, 5)) < 0.4, ((0, 0), (0, 1)))
    wired[:, 0] = True
    importance = np.where(wired[:, identity], 5.0, 0.1) * rng.lognormal(0, 0.2, (n_cells, 8))
    kept = wired[:, identity]
    seen = wired[:, :5] / wired[:, :5].sum(1, keepdims=True)
    test = groundtruth.permutation_test(
        kept, importance, identity, wired, seen, permutations=500, shuffles=200, seed=0
    )
    assert (test["p"] < 0.01).all()
    assert test["smallest_p"] < 0.01
    shuffled = (test["shuffled_p"] < 0.05).all(0)
    assert shuffled.mean() <= 0.10, shuffled.mean()


def test_a_layer_of_three_channels_is_not_testable():
    """Six relabellings in all: the best selection's p-value is at least 1/12, never below 0.05."""
    rng = np.random.default_rng(2)
    kept, importance, _, wired, seen = _null_layer(rng, n_channels=3)
    test = groundtruth.permutation_test(
        kept, importance, np.array([0, 1, 2]), wired, seen, permutations=2000, shuffles=10, seed=0
    )
    assert test["smallest_p"] >= 1 / 12 > 0.05
    empty = groundtruth.permutation_test(
        kept[:0],
        importance[:0],
        np.array([0, 1, 2]),
        wired[:0],
        seen[:0],
        permutations=10,
        shuffles=4,
        seed=0,
    )
    assert np.isnan(empty["p"]).all() and empty["shuffled_p"].shape == (2, 4)


def test_check_scores_are_fractions_and_say_whether_the_circuit_was_recovered(cnn, retina, flash):
    model, meta = cnn
    responses = experiments.run_experiment(
        flash, model=model, meta=meta, retina=retina, min_response=0.05
    )
    result = attribution.attribute(model, meta, flash, steps=4, batch_size=2048, device=DEVICE)
    reduced = reduction.reduce(
        model, meta, flash, result, tolerance=0.2, min_response=0.05, batch_size=2048, device=DEVICE
    )
    offsets = groundtruth.receptive_field_offsets(model, meta)
    assert offsets[1].shape == (3, 2) and offsets[2].shape == (3, 2)
    checked = groundtruth.check(
        model,
        meta,
        responses,
        result,
        reduced,
        retina,
        offsets=offsets,
        permutations=50,
        shuffles=20,
        alpha=0.05,
        seed=0,
        batch_size=512,
        device=DEVICE,
    )
    assert checked.sizes["signal"] == 5 and checked.sizes["layer"] == 2
    for name in ("precision", "chance", "overlap", "overlap_chance", "top_hit"):
        values = checked[name].values[checked["responsive"].values]
        assert ((values >= 0) & (values <= 1 + 1e-9)).all(), name
    assert set(checked["identity"].values) <= {*checked["signal"].values, "none"}
    assert checked["recovered"].dtype == bool
    assert ((checked["p_precision"] > 0) & (checked["p_precision"] <= 1)).all()
    np.testing.assert_allclose(checked["true_share"].sum("signal"), 1.0)
    assert list(checked["cell_type"].values) == ["off_fast", "off_slow", "on"]
