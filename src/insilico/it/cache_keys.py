"""Content keys for cached activations, free of heavy imports so that the Snakefile can use them.

A cached activation file depends on the model checkpoint, the stimulus set, the PCA fit images, the
layer and the preprocessing. :func:`preprocessing_key` names the folder of a preprocessing (so a new
image size or reduction is a new file, and switching back finds the old one); :func:`cache_key` is
the full sha256 stored in each file and checked by its reader.
"""

from __future__ import annotations

import hashlib
import json
import os

ACTIVATIONS_VERSION = "1"
PREPROCESSING_KEYS = (
    "image_size",
    "reduction",
    "max_features",
    "n_fit",
    "n_steps",
    "image_on_steps",
    "pca_window_ms",
)


def _checked(preprocessing: dict) -> dict:
    missing = sorted(set(PREPROCESSING_KEYS) - set(preprocessing))
    if missing:
        raise ValueError(f"preprocessing lacks {missing}")
    return {key: preprocessing[key] for key in PREPROCESSING_KEYS}


def preprocessing_key(preprocessing: dict) -> str:
    """``px<size>_<hash>``: the folder name of activations computed with ``preprocessing``."""
    payload = _checked(preprocessing) | {"version": ACTIVATIONS_VERSION}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]
    return f"px{preprocessing['image_size']}_{digest}"


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(inputs: dict[str, str], layer: str, preprocessing: dict) -> str:
    """sha256 over the input file digests, the layer and the preprocessing."""
    payload = {
        "inputs": inputs,
        "layer": layer,
        "preprocessing": _checked(preprocessing),
        "version": ACTIVATIONS_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# What the hidden ground-truth network of the simulated IT experiment depends on (data.it_sim):
# its cached checkpoint is named by a hash of these settings, so changing the number of
# repetitions or neuroids reuses it and changing its training retrains it.
NETWORK_SETTING_KEYS = (
    "seed",
    "image_size",
    "n_categories",
    "objects_per_category",
    "brain_resolution",
)


def network_settings(params: dict, version: str) -> dict:
    """The settings of ``data.simulated.it`` the hidden network is trained from."""
    return {key: params[key] for key in NETWORK_SETTING_KEYS} | {
        "brain": dict(params["brain"]),
        "version": version,
    }


def network_key(params: dict, version: str) -> str:
    """Short content key of the hidden network trained for ``params``."""
    payload = json.dumps(network_settings(params, version), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
