"""Scalar priors for Bayesian AMP and its state evolution (Kadmon & Ganguli 2018).

Every prior has unit second moment, so the signal-to-noise ratio means the same thing for all of
them. A prior enters AMP and state evolution only through the scalar Gaussian channel

    posterior(x | B, A)  proportional to  P(x) exp(B x - A x^2 / 2),

so each prior supplies the posterior mean and variance (the denoiser), the log partition function
(for the replica-symmetric free energy) and a quadrature rule for expectations over x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(61)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()  # expectation over a standard normal
# |z| has a kink at 0 that Gauss-Hermite resolves badly; Gauss-Legendre on [0, 9] does not.
_HALF_NODES, _HALF_WEIGHTS = np.polynomial.legendre.leggauss(60)
_HALF_NODES = 4.5 * (_HALF_NODES + 1)
_HALF_WEIGHTS = _HALF_WEIGHTS * np.exp(-0.5 * _HALF_NODES**2)
_HALF_WEIGHTS = _HALF_WEIGHTS / _HALF_WEIGHTS.sum()


def gauss_hermite() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of E over z ~ N(0, 1) (61 points: exact to polynomial degree 121)."""
    return _GH_NODES, _GH_WEIGHTS


@dataclass(frozen=True)
class Prior:
    """A unit-second-moment scalar prior: ``kind`` in gaussian, rademacher, sparse, nonnegative.

    ``sparse`` is Gauss-Bernoulli: 0 with probability 1 - rho, else N(0, 1/rho).
    ``nonnegative`` is its absolute value: 0 with probability 1 - rho, else |N(0, 1/rho)| (mean
    sqrt(2 rho / pi)), so the uninformative estimate already overlaps the truth and order-3
    inference can have a finite algorithmic threshold. rho = 1 gives the half-normal.
    """

    kind: str
    rho: float = 1.0

    def __post_init__(self):
        if self.kind not in ("gaussian", "rademacher", "sparse", "nonnegative"):
            raise ValueError(f"unknown prior {self.kind!r}")
        if not 0 < self.rho <= 1:
            raise ValueError(f"sparse prior needs 0 < rho <= 1, got {self.rho}")

    @property
    def mean(self) -> float:
        return float(np.sqrt(2 * self.rho / np.pi)) if self.kind == "nonnegative" else 0.0

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        z = rng.standard_normal(shape)
        if self.kind == "gaussian":
            return z
        if self.kind == "rademacher":
            return np.where(z >= 0, 1.0, -1.0)
        slab = z / np.sqrt(self.rho) if self.kind == "sparse" else np.abs(z) / np.sqrt(self.rho)
        return np.where(rng.random(shape) < self.rho, slab, 0.0)

    def quadrature(self) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and weights such that E_P[g(x)] = sum(w * g(nodes))."""
        z, w = gauss_hermite()
        if self.kind == "gaussian":
            return z, w
        if self.kind == "rademacher":
            return np.array([-1.0, 1.0]), np.array([0.5, 0.5])
        if self.kind == "nonnegative":
            z, w = _HALF_NODES, _HALF_WEIGHTS
        return np.r_[0.0, z / np.sqrt(self.rho)], np.r_[1 - self.rho, self.rho * w]

    def denoise(self, B, A):
        """Posterior mean and variance of x under the scalar channel with field B, precision A."""
        B, A = np.asarray(B, float), np.asarray(A, float)
        if self.kind == "gaussian":
            return B / (1 + A), np.broadcast_to(1 / (1 + A), B.shape).copy()
        if self.kind == "rademacher":
            m = np.tanh(B)
            return m, 1 - m**2
        log_on, mean_on, second_on = self._slab(B, A)
        on = np.exp(np.log(self.rho) + log_on - self._mix(log_on))  # P(slab | B)
        mean = on * mean_on
        return mean, np.maximum(on * second_on - mean**2, 1e-300)

    def log_partition(self, B, A):
        """log of integral P(x) exp(B x - A x^2 / 2) dx (the scalar channel's free entropy)."""
        B, A = np.asarray(B, float), np.asarray(A, float)
        if self.kind == "gaussian":
            return B**2 / (2 * (1 + A)) - 0.5 * np.log1p(A)
        if self.kind == "rademacher":
            return np.logaddexp(B, -B) - np.log(2) - A / 2
        return self._mix(self._slab(B, A)[0])

    def _mix(self, log_on):
        """log((1 - rho) + rho exp(log_on)): the spike at zero mixed with the slab."""
        if self.rho == 1:
            return log_on
        return np.logaddexp(np.log1p(-self.rho), np.log(self.rho) + log_on)

    def _slab(self, B, A):
        """The slab (N(0, 1/rho), or its absolute value when nonnegative): log Z, mean, E x^2.

        Under the channel the slab's posterior is N(mu, sd^2) with precision rho + A, truncated
        to x >= 0 for the nonnegative prior.
        """
        prec = self.rho + A
        mu, sd = B / prec, 1 / np.sqrt(prec)
        log_z = 0.5 * np.log(self.rho / prec) + 0.5 * B**2 / prec
        if self.kind == "sparse":
            return log_z, mu, sd**2 + mu**2
        t = mu / sd
        log_phi = log_ndtr(t)
        lam = np.exp(-0.5 * t**2 - 0.5 * np.log(2 * np.pi) - log_phi)  # phi(t) / Phi(t)
        mean = mu + sd * lam
        var = np.maximum(sd**2 * (1 - t * lam - lam**2), 1e-12 * sd**2)
        return log_z + np.log(2) + log_phi, mean, var + mean**2
