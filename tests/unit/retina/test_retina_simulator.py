"""The simulated retina behaves like a retina: the sanity checks the analyses rely on."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from insilico.retina import simulator as rs
from insilico.retina.recording import read_recording

SIZE = 12
PARAMS = {
    "size": SIZE,
    "train_seconds": 60,
    "test_seconds": 10,
    "repeats": 5,
    "cell_types": ["off_fast", "off_slow", "on", "on_off"],
    "cells_per_type": 2,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}
SEED = 3
LAGS = 30
POLAR = ("off_fast", "off_slow", "on")  # types with a signed (ON or OFF) receptive field


@pytest.fixture(scope="module")
def retina():
    return rs.SimulatedRetina(PARAMS, SEED)


@pytest.fixture(scope="module")
def white_noise(retina):
    """120 s of white noise, its contrast, and the noiseless rates (reverse correlation input)."""
    movie = rs.white_noise_movie(12000, SIZE, np.random.default_rng(1))
    return _contrast(movie), retina.respond(movie, keep_internals=False)["rate"]


@pytest.fixture(scope="module")
def stas(white_noise):
    contrast, rate = white_noise
    return [_sta(contrast, cell_rate) for cell_rate in rate]


def _sta(contrast: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Rate-weighted average of the preceding frames: (LAGS, pixels), lag 0 = same bin."""
    n = len(contrast)
    return np.stack([rate[lag:] @ contrast[: n - lag] for lag in range(LAGS)]) / rate.sum()


def _ln_model(contrast: np.ndarray, rate: np.ndarray, sta: np.ndarray):
    """Ideal LN model of one cell: its STA (from noiseless rates) and a binned nonlinearity."""

    def generator(stimulus: np.ndarray) -> np.ndarray:
        g = np.zeros(len(stimulus))
        for lag in range(LAGS):
            g[lag:] += stimulus[: len(stimulus) - lag] @ sta[lag]
        return g

    g = generator(contrast)
    edges = np.quantile(g, np.linspace(0, 1, 31)[1:-1])
    bins = np.digitize(g, edges)
    nonlinearity = np.array([rate[bins == b].mean() for b in range(30)])
    return lambda stimulus: nonlinearity[np.digitize(generator(stimulus), edges)]


def _contrast(movie: np.ndarray) -> np.ndarray:
    return (movie.reshape(len(movie), -1).astype(float) - 128) / 128


def _distance(retina, cell: int) -> np.ndarray:
    rows, cols = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    centre = retina.cell_centres[cell]
    return np.hypot(rows - centre[0], cols - centre[1]).ravel()


def _flash(retina, level: int, frames: int = 50, mask: np.ndarray | None = None) -> np.ndarray:
    """Rates to a grey screen with a step to ``level`` at frame 100 (all pixels or ``mask``)."""
    movie = np.full((300, SIZE, SIZE), 128, np.uint8)
    region = np.ones((SIZE, SIZE), bool) if mask is None else mask
    movie[100 : 100 + frames, region] = level
    return retina.respond(movie, keep_internals=False)["rate"]


def test_circuit_and_stimuli_are_deterministic_from_the_seed(retina):
    again = rs.SimulatedRetina(PARAMS, SEED)
    other = rs.SimulatedRetina(PARAMS, SEED + 1)
    np.testing.assert_array_equal(again.cell_centres, retina.cell_centres)
    assert not np.allclose(other.cell_centres, retina.cell_centres)
    for make in (
        lambda rng: rs.white_noise_movie(50, SIZE, rng),
        lambda rng: rs.natural_movie(250, SIZE, rng, saccade_every=100, jitter_px=0.5),
    ):
        np.testing.assert_array_equal(
            make(np.random.default_rng(7)), make(np.random.default_rng(7))
        )
    movie = rs.white_noise_movie(200, SIZE, np.random.default_rng(2))
    np.testing.assert_array_equal(retina.respond(movie)["rate"], again.respond(movie)["rate"])


def test_chunked_simulation_matches_one_pass(retina, monkeypatch):
    movie = rs.natural_movie(230, SIZE, np.random.default_rng(3), saccade_every=100, jitter_px=0.5)
    whole = retina.respond(movie)
    monkeypatch.setattr(rs, "CHUNK_FRAMES", 37)  # filter and depression state carried over
    chunked = retina.respond(movie)
    for key, value in whole.items():
        np.testing.assert_allclose(chunked[key], value, rtol=1e-5, atol=1e-6, err_msg=key)


def test_recordings_are_reproducible(tmp_path):
    params = {**PARAMS, "train_seconds": 5, "test_seconds": 2}
    for name in ("a.h5", "b.h5"):
        rs.simulate_recording(tmp_path / name, "naturalscene", params, SEED)
    a, b = read_recording(tmp_path / "a.h5"), read_recording(tmp_path / "b.h5")
    np.testing.assert_array_equal(a.train_stimulus, b.train_stimulus)
    np.testing.assert_array_equal(a.train_rate, b.train_rate)
    np.testing.assert_array_equal(a.test_repeats, b.test_repeats)


def test_the_heldout_movie_is_a_second_test_set_of_the_same_cells(tmp_path):
    """Its own movie and spikes (streams nothing else draws from), same cells and layout; the
    first test set is unchanged by adding it; the truth is smoothed like the recorded rate."""
    params = {**PARAMS, "train_seconds": 5, "test_seconds": 3}
    rs.simulate_recording(tmp_path / "rec.h5", "naturalscene", params, SEED)
    test = read_recording(tmp_path / "rec.h5")
    heldout = read_recording(tmp_path / "rec.h5", test_set="heldout")
    assert (test.test_set, heldout.test_set) == ("test", "heldout")
    assert heldout.test_repeats.shape == test.test_repeats.shape
    assert heldout.cell_names == test.cell_names
    assert not np.array_equal(heldout.test_stimulus, test.test_stimulus)
    np.testing.assert_array_equal(heldout.train_rate, test.train_rate)
    retina = rs.SimulatedRetina(params, SEED)
    true = retina.respond(test.test_stimulus, keep_internals=False)["rate"]
    np.testing.assert_allclose(test.true_test_rate, rs.expected_recorded_rate(true))
    # the expected recorded rate is the mean of the smoothed Poisson repeats
    counts = rs.spike_counts(np.repeat(true[:1, None], 4000, axis=1), np.random.default_rng(0))
    mean = rs.smoothed_rate(counts).mean(axis=1)[0]
    assert np.abs(mean - rs.expected_recorded_rate(true)[0]).max() < 4 * true.max() ** 0.5
    true_heldout = retina.respond(heldout.test_stimulus, keep_internals=False)["rate"]
    np.testing.assert_allclose(heldout.true_test_rate, rs.expected_recorded_rate(true_heldout))


def test_stimuli(retina):
    noise = rs.white_noise_movie(100, SIZE, np.random.default_rng(0))
    assert noise.shape == (100, SIZE, SIZE) and noise.dtype == np.uint8
    assert set(np.unique(noise)) == {0, 255}

    movie = rs.natural_movie(300, SIZE, np.random.default_rng(0), saccade_every=100, jitter_px=0.5)
    assert movie.shape == (300, SIZE, SIZE) and movie.dtype == np.uint8
    assert 100 < movie.mean() < 156
    frames = movie.reshape(300, -1).astype(float)
    similarity = np.array(
        [np.corrcoef(a, b)[0, 1] for a, b in zip(frames[:-1], frames[1:], strict=True)]
    )
    saccades = [99, 199]  # a new image: consecutive frames unrelated
    fixation = np.delete(similarity, saccades)  # jitter: consecutive frames alike, not equal
    assert np.abs(similarity[saccades]).max() < 0.5 < np.median(fixation) < 1


def test_respond_returns_rates_and_internals(retina):
    movie = rs.natural_movie(120, SIZE, np.random.default_rng(0), saccade_every=100, jitter_px=0.5)
    out = retina.respond(movie)
    grid = retina.grid_shape
    assert out["rate"].shape == (retina.n_cells, 120) and out["rate"].dtype == np.float64
    assert out["ganglion_drive"].shape == (retina.n_cells, 120)
    assert out["bipolar"].shape == (len(retina.bipolar_types), 120, *grid)
    assert out["bipolar_linear"].shape == out["bipolar"].shape
    assert out["amacrine"].shape == (len(retina.amacrine_types), 120, *grid)
    assert out["gain"].shape == (120, *grid)
    assert (out["rate"] >= 0).all() and (out["bipolar"] >= 0).all()
    assert (
        retina.cell_types == ("off_fast",) * 2 + ("off_slow",) * 2 + ("on",) * 2 + ("on_off",) * 2
    )


def test_sta_has_right_polarity_biphasic_time_course_and_antagonistic_surround(retina, stas):
    for cell, cell_type in enumerate(retina.cell_types):
        if cell_type not in POLAR:
            continue
        sta = stas[cell]
        distance = _distance(retina, cell)
        centre = sta[:, distance < 1.5].mean(axis=1)
        peak = int(np.argmax(np.abs(centre)))
        sign = np.sign(centre[peak])
        assert sign == (1 if cell_type == "on" else -1), cell_type
        assert 4 <= peak <= 12, f"{cell_type} STA peak at {peak * 10} ms"
        # Biphasic: a later lobe of the opposite sign.
        assert (sign * centre[peak:]).min() < -0.15 * abs(centre[peak])
        # Centre-surround: the ring around the centre has the opposite sign near the peak lag.
        ring = sta[peak - 1 : peak + 3][:, (distance > 2.5) & (distance < 5)].mean()
        assert sign * ring < 0, f"{cell_type} surround {ring:.4f} has the centre's sign"


def test_full_field_flash_polarity(retina):
    light, dark = _flash(retina, 255), _flash(retina, 0)
    baseline = light[:, 90]
    light_on, dark_on = light[:, 100:130].max(axis=1), dark[:, 100:130].max(axis=1)
    for cell, cell_type in enumerate(retina.cell_types):
        if cell_type in ("on", "on_off"):
            assert light_on[cell] > baseline[cell] + 20, cell_type
        if cell_type in ("off_fast", "off_slow", "on_off"):
            assert dark_on[cell] > baseline[cell] + 20, cell_type
        if cell_type == "on":
            assert dark_on[cell] <= baseline[cell] + 1
        if cell_type.startswith("off"):
            assert light_on[cell] <= baseline[cell] + 1


def test_surround_suppresses_large_spots(retina):
    for cell, cell_type in enumerate(retina.cell_types):
        level = 156 if cell_type == "on" else 100  # 22 % contrast of the preferred sign
        spot = _distance(retina, cell).reshape(SIZE, SIZE) <= 2.0
        small = _flash(retina, level, mask=spot)[cell, 100:140].max()
        full = _flash(retina, level)[cell, 100:140].max()
        assert full < 0.85 * small, f"{cell_type}: spot {small:.1f} Hz, full field {full:.1f} Hz"


def test_fine_reversing_grating_drives_frequency_doubling(retina, white_noise, stas):
    """Rectified subunits respond to both reversals of a grating finer than the centre.

    Responses are read within 150 ms of each reversal: an LN model's drive flips sign with the
    grating, so it can answer the second reversal only late, through its biphasic rebound.
    """
    contrast, rate = white_noise
    half, width, early = 50, 2, 15  # reversal every 500 ms, bars 2 px (centre ~5 px across)
    sign = np.repeat(np.tile([1.0, -1.0], 3), half)

    def reversal_peaks(response: np.ndarray) -> np.ndarray:
        """Early peak rate above baseline after each of the two reversals (first cycle skipped)."""
        cycles = response[100 + 2 * half :].reshape(-1, 2, half)
        return cycles[..., :early].max(axis=-1).mean(axis=0) - response[95]

    gratings = []
    for phase in range(2 * width):
        bars = np.where((np.arange(SIZE) + phase) // width % 2 == 0, 1.0, -1.0)
        for pattern in (np.tile(bars, (SIZE, 1)), np.tile(bars[:, None], (1, SIZE))):
            frames = 128 + 0.3 * 128 * sign[:, None, None] * pattern
            movie = np.concatenate([np.full((100, SIZE, SIZE), 128.0), frames]).round()
            gratings.append(movie.astype(np.uint8))
    responses = [retina.respond(movie, keep_internals=False)["rate"] for movie in gratings]

    for cell, cell_type in enumerate(retina.cell_types):
        peaks = [reversal_peaks(response[cell]) for response in responses]
        best = int(np.argmax([p.min() for p in peaks]))
        peaks = peaks[best]
        ln_peaks = reversal_peaks(
            _ln_model(contrast, rate[cell], stas[cell])(_contrast(gratings[best]))
        )
        assert peaks.min() > 15, f"{cell_type}: {peaks} Hz above baseline after the reversals"
        assert peaks.min() > 0.2 * peaks.max(), f"{cell_type}: no frequency doubling {peaks}"
        assert ln_peaks.min() < 0.5 * peaks.min(), (cell_type, peaks, ln_peaks)


def test_linear_model_cannot_explain_everything(retina, white_noise, stas):
    """An ideal LN model (STA from noiseless rates) stays well below the repeat reliability."""
    contrast, rate = white_noise
    movie = rs.white_noise_movie(2000, SIZE, np.random.default_rng(9))
    test_rate = retina.respond(movie, keep_internals=False)["rate"]
    repeats = rs.smoothed_rate(
        rs.spike_counts(np.repeat(test_rate[:, None], 5, axis=1), np.random.default_rng(4))
    )
    ln, ceiling = [], []
    for cell in range(retina.n_cells):
        prediction = _ln_model(contrast, rate[cell], stas[cell])(_contrast(movie))
        ln.append(np.corrcoef(prediction, test_rate[cell])[0, 1])
        ceiling.append(np.corrcoef(repeats[cell].mean(axis=0), test_rate[cell])[0, 1])
    ln, ceiling = np.array(ln), np.array(ceiling)
    assert (ln < 0.85).all(), ln
    assert ln.mean() < ceiling.mean() - 0.2, (ln, ceiling)
    assert (ceiling > 0.75).all(), ceiling


def test_contrast_adaptation_lowers_gain(retina):
    rng = np.random.default_rng(5)
    noise = rs.white_noise_movie(300, SIZE, rng).astype(float) - 128
    low = (128 + 0.2 * noise).round().astype(np.uint8)
    high = (128 + noise).clip(0, 255).round().astype(np.uint8)
    assert (
        retina.respond(high)["gain"][100:].mean() < retina.respond(low)["gain"][100:].mean() - 0.05
    )


def test_simulated_recordings_are_reliable_and_share_their_cells(tmp_path):
    paths = {c: tmp_path / f"{c}.h5" for c in ("whitenoise", "naturalscene")}
    for stimulus_class, path in paths.items():
        rs.simulate_recording(path, stimulus_class, PARAMS, SEED)
    recs = {c: read_recording(p) for c, p in paths.items()}
    n_cells = len(PARAMS["cell_types"]) * PARAMS["cells_per_type"]
    for stimulus_class, rec in recs.items():
        assert rec.train_stimulus.shape == (6000, SIZE, SIZE)
        assert rec.test_repeats.shape == (n_cells, 5, 1000)
        assert rec.true_test_rate.shape == (n_cells, 1000)
        mean_rate = rec.train_rate.mean(axis=1)
        assert ((mean_rate > 2) & (mean_rate < 30)).all(), (stimulus_class, mean_rate)
        assert rec.train_rate.max() < 400  # smoothed single-trial counts, true rate <= 105 Hz
        reliability = np.array(
            [
                np.mean(
                    [
                        np.corrcoef(r[k], np.delete(r, k, axis=0).mean(axis=0))[0, 1]
                        for k in range(len(r))
                    ]
                )
                for r in rec.test_repeats
            ]
        )
        assert (reliability < 0.95).all(), (stimulus_class, reliability)
        assert (reliability > 0.3).mean() >= 0.75, (stimulus_class, reliability)

    assert not np.array_equal(recs["whitenoise"].test_stimulus, recs["naturalscene"].test_stimulus)
    with h5py.File(paths["whitenoise"]) as wn, h5py.File(paths["naturalscene"]) as ns:
        np.testing.assert_array_equal(
            wn["groundtruth/cell_centres"], ns["groundtruth/cell_centres"]
        )
        assert wn["groundtruth/cell_types"].asstr()[()].tolist() == list(
            rs.SimulatedRetina(PARAMS, SEED).cell_types
        )
        assert wn.attrs["source"] == "simulated"
        assert wn.attrs["simulator_version"] == rs.SIMULATOR_VERSION
        assert wn.attrs["seed"] == SEED and ns.attrs["stimulus_class"] == "naturalscene"
        assert '"subunit_spacing": 2' in wn.attrs["parameters"]
        assert wn["train/response/binned"].shape == (n_cells, 6000)


def test_unknown_inputs_are_refused(retina):
    with pytest.raises(ValueError, match="unknown ganglion cell types"):
        rs.SimulatedRetina({**PARAMS, "cell_types": ["on", "midget"]}, SEED)
    with pytest.raises(ValueError, match="unknown stimulus class"):
        retina.stimulus("gratings", 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="movie must be"):
        retina.respond(np.zeros((10, SIZE + 1, SIZE + 1), np.uint8))


def test_polyaxonal_inhibition_only_reaches_oms_cells(monkeypatch):
    """Without "oms" the circuit is that of version 2.0: no polyaxonal amacrine, and its strength
    changes nothing; with "oms" the other cells keep their exact circuit and rates."""
    params = {**PARAMS, "size": 16, "cells_per_type": 1}
    movie = rs.white_noise_movie(300, 16, np.random.default_rng(1))
    plain = rs.SimulatedRetina(params, 0)
    assert plain.amacrine_types == rs.AMACRINE_TYPES
    out = plain.respond(movie)
    assert out["amacrine"].shape[0] == len(rs.AMACRINE_TYPES)
    with_oms = rs.SimulatedRetina({**params, "cell_types": [*params["cell_types"], "oms"]}, 0)
    assert with_oms.amacrine_types == (*rs.AMACRINE_TYPES, rs.POLYAXONAL)
    both = with_oms.respond(movie)
    old = np.array([t != "oms" for t in with_oms.cell_types])
    np.testing.assert_array_equal(both["rate"][old], out["rate"])
    np.testing.assert_array_equal(with_oms.cell_centres[old], plain.cell_centres)
    np.testing.assert_array_equal(both["amacrine"][: len(rs.AMACRINE_TYPES)], out["amacrine"])
    assert both["amacrine"][-1].max() > 0  # the polyaxonal signal pools rectified bipolar output

    monkeypatch.setattr(rs, "POLYAXONAL_STRENGTH", 0.0)
    np.testing.assert_array_equal(rs.SimulatedRetina(params, 0).respond(movie)["rate"], out["rate"])
    unopposed = rs.SimulatedRetina({**params, "cell_types": [*params["cell_types"], "oms"]}, 0)
    rate = unopposed.respond(movie)["rate"]
    np.testing.assert_array_equal(rate[old], out["rate"])
    assert not np.allclose(rate[~old], both["rate"][~old])  # the strength acts on OMS cells
