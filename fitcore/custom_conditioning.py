"""How ill-conditioned your own data's loss is, with raw and with standardised x, and the largest stable
learning rate it allows: the numbers behind the own-data page's advice on standardising."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .custom import CustomSource, check_source, polynomial_features, standardisation
from .problems import Feature


@dataclass(frozen=True)
class Conditioning:
    """λmax, λmin and λmax/λmin of the mean loss's Hessian, for raw and for standardised x."""

    raw: tuple[float, float]
    standardised: tuple[float, float]

    @staticmethod
    def ratio(pair: tuple[float, float]) -> float:
        top, bottom = pair
        return top / bottom if bottom > 0 else math.inf

    @property
    def raw_ratio(self) -> float:
        return self.ratio(self.raw)

    @property
    def standardised_ratio(self) -> float:
        return self.ratio(self.standardised)

    @staticmethod
    def steps_per_tenfold(ratio: float) -> float:
        """Steps for the flattest direction to shrink tenfold at learning rate 1/λmax: (1 − 1/κ)^n = 1/10."""
        if not math.isfinite(ratio) or ratio <= 1:
            return math.inf if not math.isfinite(ratio) else 1.0
        return math.log(10) / -math.log1p(-1.0 / ratio)


def _extreme_eigenvalues(features: tuple[Feature, ...], x: np.ndarray) -> tuple[float, float]:
    """λmax and λmin of H = (2/N)·ΦᵀΦ from Φ's singular values: λ = 2σ²/N. The SVD of Φ resolves
    λmin down to ~1e-32·λmax, where an eigen-decomposition of H loses it below ~1e-16·λmax."""
    with np.errstate(all="ignore"):
        phi = np.stack([np.broadcast_to(np.asarray(f.fn(x), dtype=np.float64), x.shape) for f in features], axis=1)
    if not np.isfinite(phi).all():
        return math.inf, 0.0
    singular = np.linalg.svd(phi, compute_uv=False)
    scale = 2.0 / len(x)
    return float(scale * singular[0] ** 2), float(scale * singular[-1] ** 2)


@functools.lru_cache(maxsize=32)
def conditioning(source: CustomSource, points: int) -> Conditioning:
    """How ill-conditioned the loss is with raw x and with standardised x, for the data of ``points`` points."""
    check_source(source)
    if source.kind == "function":
        x = np.linspace(source.x_min, source.x_max, points)
    else:
        x = np.asarray(source.x, dtype=np.float64)
    raw = _extreme_eigenvalues(polynomial_features(source.degree), x)
    standard = _extreme_eigenvalues(polynomial_features(source.degree, standardisation(source)), x)
    return Conditioning(raw, standard)


def max_stable_lr(source: CustomSource, points: int, reduction: str) -> float:
    """2/λmax of the loss plain SGD minimises on these data (the mean's λmax is N times smaller than the sum's)."""
    pair = conditioning(source, points).standardised if source.standardise else conditioning(source, points).raw
    rows = source.rows if source.kind == "csv" else points
    top = pair[0] * (rows if reduction == "sum" else 1)
    return 2.0 / top if top > 0 else math.inf


