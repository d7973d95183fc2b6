"""The branch's studies, each returning a labelled xarray Dataset (theory next to simulation).

* :func:`overlap_vs_snr`: state evolution curves (uninformative, informed, Bayes-optimal) and AMP
  runs at several N from an uninformative and from an informed start;
* :func:`phase_diagram`: thresholds and easy/hard/impossible labels over snr and shape;
* :func:`amp_vs_als`: signal-tensor MSE of AMP and of tensorly's ALS on the same planted tensors
  with the same number of random starts, and the theory's MSE;
* :func:`cnmf_benchmark`: loss against wall-clock time of MU, HALS and ANLS from one start.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.factorisation import cnmf
from insilico.factorisation import state_evolution as se
from insilico.factorisation.als import als
from insilico.factorisation.amp import amp, initialise
from insilico.factorisation.planted import (
    matched_overlaps,
    mode_sizes,
    planted_tensor,
    signal_scale,
    tensor_mse,
)
from insilico.factorisation.priors import Prior


def make_prior(spec: dict) -> Prior:
    """Prior from a config mapping {kind, rho}."""
    return Prior(spec["kind"], float(spec.get("rho", 1.0)))


def _configured_amp(y, snr, n, prior, rank, init, amp_params):
    """AMP with the iteration budget, damping and tolerance of config ``factorisation.amp``."""
    return amp(
        y,
        snr,
        n,
        prior,
        rank,
        init,
        max_iter=amp_params["max_iter"],
        damping=amp_params["damping"],
        tol=amp_params["tol"],
    )


def _amp_runs(rng, n, alphas, rank, snr, prior, trials, amp_params, informed):
    """Overlaps (trials, modes) of AMP on fresh planted tensors, from either start."""
    y, truth = planted_tensor(rng, n, alphas, rank, snr, prior, trials)
    if informed:
        init = ([t.copy() for t in truth], [np.zeros_like(t) for t in truth])
    else:
        init = initialise(rng, mode_sizes(n, alphas), rank, prior, trials, amp_params["init_scale"])
    res = _configured_amp(y, snr, n, prior, rank, init, amp_params)
    m, _ = matched_overlaps(res.means, truth)
    return m.mean(axis=2), res.converged


def overlap_vs_snr(study: dict, amp_params: dict, seed: int) -> xr.Dataset:
    """State evolution against AMP for one order/prior/shape over snr and N."""
    prior, alphas = make_prior(study["prior"]), tuple(study["alphas"])
    p = len(alphas)
    theory_snr = np.geomspace(*study["snr_range"], study["n_theory"])
    sim_snr = np.geomspace(*study["snr_range"], study["n_points"])
    fp = se.fixed_points(theory_snr, alphas, prior)
    ns, trials = list(study["n"]), int(study["trials"])
    sim = np.full((2, len(ns), sim_snr.size, trials, p), np.nan)
    conv = np.zeros((2, len(ns), sim_snr.size, trials), dtype=bool)
    for s, informed in enumerate((False, True)):
        for i, n in enumerate(ns):
            for j, snr in enumerate(sim_snr):
                rng = np.random.default_rng([seed, p, s, n, j])
                sim[s, i, j], conv[s, i, j] = _amp_runs(
                    rng, n, alphas, study["rank"], snr, prior, trials, amp_params, informed
                )
    th = se.thresholds(alphas, prior, theory_snr)
    return xr.Dataset(
        {
            "theory_uninformed": (("snr_theory", "mode"), fp["m_uninformed"]),
            "theory_informed": (("snr_theory", "mode"), fp["m_informed"]),
            "theory_bayes": (("snr_theory", "mode"), fp["m_bayes"]),
            "phi_uninformed": ("snr_theory", fp["phi_uninformed"]),
            "phi_informed": ("snr_theory", fp["phi_informed"]),
            "amp_overlap": (("start", "n", "snr", "trial", "mode"), sim),
            "amp_converged": (("start", "n", "snr", "trial"), conv),
        },
        coords={
            "snr_theory": theory_snr,
            "snr": sim_snr,
            "n": ns,
            "start": ["uninformative", "informed"],
            "mode": np.arange(p),
            "alpha": ("mode", np.asarray(alphas, float)),
        },
        attrs={
            "order": p,
            "prior": prior.kind,
            "rho": prior.rho,
            "rank": int(study["rank"]),
            **{f"threshold_{k}": float(v) for k, v in th.items() if k != "continuous"},
            "continuous": int(th["continuous"]),
        },
    )


def phase_diagram(study: dict) -> xr.Dataset:
    """Thresholds over the shape of mode 0 (alpha_0 = a, the others 1) and phase labels on a grid."""
    prior = make_prior(study["prior"])
    p = int(study["order"])
    shapes = np.geomspace(*study["shape_range"], study["n_shapes"])
    snr = np.geomspace(*study["snr_range"], study["n_snr"])
    keys = ("spinodal", "information", "algorithmic")
    values = {k: np.zeros(shapes.size) for k in keys}
    labels = np.zeros((shapes.size, snr.size), dtype=np.int8)
    for i, a in enumerate(shapes):
        th = se.thresholds((a,) + (1.0,) * (p - 1), prior, snr)
        for k in keys:
            values[k][i] = th[k]
        labels[i] = se.phase_labels(snr, th)
    return xr.Dataset(
        {
            **{f"threshold_{k}": ("shape", v) for k, v in values.items()},
            "phase": (("shape", "snr"), labels),
        },
        coords={"shape": shapes, "snr": snr},
        attrs={
            "order": p,
            "prior": prior.kind,
            "rho": prior.rho,
            "phase_codes": "0 impossible, 1 hard, 2 easy",
        },
    )


def _best_amp(y, snr, n, prior, rank, n_init, rng, amp_params):
    """AMP from ``n_init`` random starts per trial; keep the smallest reconstruction residual."""
    p = y.ndim - 1
    s = signal_scale(snr, n, p)
    best, best_res = None, np.full(y.shape[0], np.inf)
    sizes = list(y.shape[1:])
    for _ in range(n_init):
        init = initialise(rng, sizes, rank, prior, y.shape[0], amp_params["init_scale"])
        res = _configured_amp(y, snr, n, prior, rank, init, amp_params)
        letters = "abcdefgh"[:p]
        spec = ",".join(f"z{c}r" for c in letters) + f"->z{letters}"
        resid = ((y - s * np.einsum(spec, *res.means)) ** 2).sum(axis=tuple(range(1, p + 1)))
        better = resid < best_res
        best_res = np.where(better, resid, best_res)
        if best is None:
            best = [m.copy() for m in res.means]
        for k in range(p):
            best[k][better] = res.means[k][better]
    return best


def amp_vs_als(study: dict, amp_params: dict, als_params: dict, seed: int) -> xr.Dataset:
    """MSE of the signal tensor for AMP and ALS per snr (same tensors, same number of starts)."""
    prior, alphas = make_prior(study["prior"]), tuple(study["alphas"])
    n, rank, trials, n_init = int(study["n"]), int(study["rank"]), int(study["trials"]), 0
    n_init = int(study["n_init"])
    snrs = np.geomspace(*study["snr_range"], study["n_points"])
    mse = np.zeros((2, snrs.size, trials))
    cos = np.zeros((2, snrs.size, trials))
    for j, snr in enumerate(snrs):
        rng = np.random.default_rng([seed, 7, j])
        y, truth = planted_tensor(rng, n, alphas, rank, snr, prior, trials)
        estimates = (
            _best_amp(y, snr, n, prior, rank, n_init, rng, amp_params),
            als(y, snr, n, rank, n_init, seed + j, als_params["n_iter_max"], als_params["tol"]),
        )
        for i, est in enumerate(estimates):
            mse[i, j] = tensor_mse(est, truth)
            cos[i, j] = matched_overlaps(est, truth)[1].mean(axis=(1, 2))
    theory_snr = np.geomspace(*study["snr_range"], 4 * study["n_points"])
    m = se.fixed_points(theory_snr, alphas, prior)["m_uninformed"]
    return xr.Dataset(
        {
            "mse": (("algorithm", "snr", "trial"), mse),
            "cosine": (("algorithm", "snr", "trial"), cos),
            "mse_gap": ("snr", mse[1].mean(axis=1) - mse[0].mean(axis=1)),
            "theory_mse": ("snr_theory", 1 - np.prod(m, axis=-1)),
        },
        coords={"algorithm": ["amp", "als"], "snr": snrs, "snr_theory": theory_snr},
        attrs={
            "order": len(alphas),
            "prior": prior.kind,
            "rho": prior.rho,
            "n": n,
            "rank": rank,
            "n_init": n_init,
            "alphas": list(map(float, alphas)),
            "theory": "rank-1 state evolution from the uninformative start: MSE = 1 - prod_k m_k",
        },
    )


def cnmf_benchmark(params: dict, seed: int) -> xr.Dataset:
    """Each method from the same start on one planted-sequence data set; losses against time."""
    rng = np.random.default_rng([seed, 11])
    k, n_lags = int(params["k"]), int(params["l"])
    x, w_true, h_true = cnmf.planted_sequences(
        rng, int(params["n"]), k, n_lags, int(params["t"]), params["rate"], 1.5, params["noise"]
    )
    init = cnmf.initialise(x, k, n_lags, seed)
    results = {
        method: cnmf.fit(
            x,
            k,
            n_lags,
            method,
            max_iter=int(params["max_iter"]),
            tol=float(params["tol"]),
            max_time=float(params["max_time"]),
            init=init,
        )
        for method in params["methods"]
    }
    steps = max(len(r.losses) for r in results.values())
    losses = np.full((len(results), steps), np.nan)
    times = np.full_like(losses, np.nan)
    for i, r in enumerate(results.values()):
        losses[i, : len(r.losses)] = r.losses
        times[i, : len(r.times)] = r.times
    target = results["mu"].losses[-1]  # the schema requires mu: it is the reference
    reach = np.array([cnmf.time_to_reach(r, target) for r in results.values()])
    similarity = np.stack([cnmf.motif_similarity(r.w, w_true) for r in results.values()])
    final = np.array([r.losses[-1] for r in results.values()])
    return xr.Dataset(
        {
            "loss": (("algorithm", "iteration"), losses),
            "time": (("algorithm", "iteration"), times),
            "final_loss": ("algorithm", final),
            "time_to_mu_final": ("algorithm", reach),
            "speedup_vs_mu": ("algorithm", reach[list(results).index("mu")] / reach),
            "motif_similarity": (("algorithm", "motif"), similarity),
        },
        coords={"algorithm": list(results), "iteration": np.arange(steps), "motif": np.arange(k)},
        attrs={
            "n": int(params["n"]),
            "k": k,
            "l": n_lags,
            "t": int(params["t"]),
            "truth_loss": cnmf.loss(x, w_true, h_true),
            "mu_final_loss": float(target),
        },
    )
