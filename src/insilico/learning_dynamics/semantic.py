"""Saxe, McClelland & Ganguli (2019) against simulation: mode trajectories from decoupled and
small random starts, progressive differentiation of a hierarchical domain, the hidden layer's
similarity over time, illusory correlations, typicality, and a ReLU network on the same domain.

Every study returns an xarray Dataset with the simulation next to the theory's prediction for the
same seeds; claims.py turns them into claims.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.learning_dynamics import domains as dm
from insilico.learning_dynamics import simulate as sim
from insilico.learning_dynamics import theory as th


def decoupled(cfg: dict, seed: int) -> xr.Dataset:
    """Networks of 1-3 hidden layers started on their modes (balanced, decoupled) against the exact
    scalar trajectories: per seed a random spectrum in random orthonormal bases."""
    rng = np.random.default_rng(seed)
    seeds, k, dim = cfg["seeds"], cfg["modes"], cfg["dim"]
    s = np.sort(rng.uniform(*cfg["values"], (seeds, k)), axis=1)[:, ::-1]
    u = np.linalg.qr(rng.standard_normal((seeds, dim, k)))[0]
    v = np.linalg.qr(rng.standard_normal((seeds, dim, k)))[0]
    sigma31 = (u * s[:, None, :]) @ np.swapaxes(v, -1, -2)
    sims, theories = [], []
    for depth, horizon, lr in zip(cfg["depths"], cfg["horizons"], cfg["lrs"], strict=True):
        steps, every, times = sim.clock(horizon, lr, cfg["points"])
        weights = sim.decoupled_init(rng, u, v, np.full(k, cfg["s0"]), cfg["hidden"], depth)

        def record(w):
            return {"s": np.einsum("bok,boi,bik->bk", u, sim.product(w), v)}

        run = sim.train_linear(weights, sigma31, lr, steps, every, record)
        theory = np.stack([th.strengths(times, s[b], cfg["s0"], depth).T for b in range(seeds)])
        grid = np.linspace(0, 1, cfg["points"] + 1)
        sims.append(xr.DataArray(run["s"], dims=("seed", "frac", "mode")).assign_coords(frac=grid))
        theories.append(
            xr.DataArray(theory, dims=("seed", "frac", "mode")).assign_coords(frac=grid)
        )
    return xr.Dataset(
        {
            "simulation": xr.concat(sims, "depth"),
            "theory": xr.concat(theories, "depth"),
            "singular_value": (("seed", "mode"), s),
            "horizon": ("depth", list(cfg["horizons"])),
        },
        coords={"depth": cfg["depths"]},
    )


def _illusory_pair(features: np.ndarray, theory_map: np.ndarray) -> tuple[int, int]:
    """The absent (feature, item) whose theoretical prediction (time, feature, item) rises
    highest before it dies."""
    peak = np.where(features == 0, theory_map.max(0), -np.inf)
    f, i = np.unravel_index(np.argmax(peak), peak.shape)
    return int(f), int(i)


def tree_study(domain_of, cfg: dict, seed: int, relu: bool) -> xr.Dataset:
    """A one-hidden-layer network from small random weights on a domain (``domain_of(seed)``,
    the same items for every seed) against the theory with each seed's effective start
    (theory.random_start_s0): group strengths, hidden similarity, outputs; optionally a ReLU
    network from the same weights."""
    seeds, hidden = cfg["seeds"], cfg["hidden"]
    rng = np.random.default_rng(seed)
    doms = [domain_of(b) for b in range(seeds)]
    spectra = [dm.modes(d) for d in doms]
    items = doms[0].items
    weights = sim.random_init(rng, (items, hidden, doms[0].features.shape[0]), seeds, cfg["scale"])
    sigma31 = np.stack([d.sigma31 for d in doms])
    steps, every, times = sim.clock(cfg["horizon"], cfg["lr"], cfg["points"])
    x = doms[0].inputs
    run = sim.train_linear(
        weights,
        sigma31,
        cfg["lr"],
        steps,
        every,
        lambda w: {"map": sim.product(w), "similarity": np.swapaxes(w[0] @ x, -1, -2) @ (w[0] @ x)},
    )
    count = cfg["groups"]
    fields = {name: [] for name in ("strength", "theory", "theory_similarity", "theory_map")}
    fields |= {"relu_strength": [], "value": []}
    if relu:
        relu_maps = sim.train_relu(weights, x, sigma31 * np.sqrt(items), cfg["lr"], steps, every)
    for b, (s, u, v) in enumerate(spectra):
        members = dm.groups(s)[:count]
        s0 = th.random_start_s0(weights[0][b], weights[1][b], u, v)
        modes_t = th.strengths(times, s, s0)
        fields["strength"].append(dm.group_strength(run["map"][b], u, v, members))
        fields["theory"].append(np.stack([modes_t[g].mean(0) for g in members], -1))
        fields["theory_similarity"].append(items * np.einsum("ik,kt,jk->tij", v, modes_t, v))
        fields["theory_map"].append(np.einsum("fk,kt,ik->tfi", u, modes_t, v))
        fields["value"].append([s[g[0]] for g in members])
        if relu:
            maps = relu_maps[b] / np.sqrt(items)
            fields["relu_strength"].append(dm.group_strength(maps, u, v, members))
    dims = {
        "strength": ("seed", "time", "group"),
        "theory": ("seed", "time", "group"),
        "theory_similarity": ("seed", "time", "item", "item2"),
        "theory_map": ("seed", "time", "feature", "item"),
        "relu_strength": ("seed", "time", "group"),
        "value": ("seed", "group"),
    }
    data = {k: (dims[k], np.asarray(fields[k])) for k in dims if fields[k]}
    data["map"] = (("seed", "time", "feature", "item"), run["map"])
    data["similarity"] = (("seed", "time", "item", "item2"), run["similarity"])
    data["features"] = (("seed", "feature", "item"), np.stack([d.features for d in doms]))
    return xr.Dataset(data, coords={"time": times})


def hierarchy(cfg: dict, seed: int) -> xr.Dataset:
    """Saxe et al.'s 8-item tree (one feature per node), linear and ReLU, with its illusory pair."""
    domain = dm.node_feature_domain(cfg["levels"])
    ds = tree_study(lambda _: domain, cfg, seed, relu=True)
    f, i = _illusory_pair(domain.features, ds.theory_map.mean("seed").values)
    ds.attrs.update(illusory_feature=f, illusory_item=i, levels=cfg["levels"])
    return ds


def random_tree(cfg: dict, seed: int) -> xr.Dataset:
    """A larger random tree (fixed by ``seed``) with fresh diffusion features for every network
    seed, scaled so that the top singular value is ``top_value``; with each item's typicality."""
    parents, leaves = dm.random_tree(np.random.default_rng(seed), cfg["depth"], cfg["branching"])

    def domain_of(b: int) -> dm.Domain:
        rng = np.random.default_rng([seed, b])
        d = dm.diffusion_domain(rng, parents, leaves, cfg["features"], cfg["flip"])
        top = np.linalg.svd(d.sigma31, compute_uv=False)[0]
        return dm.Domain(d.features * cfg["top_value"] / top, d.parents, d.leaves)

    ds = tree_study(domain_of, cfg, seed, relu=False)
    category = np.array([dm.ancestors(parents, leaf)[-2] for leaf in leaves])
    ds["category"] = ("item", category)
    return ds
