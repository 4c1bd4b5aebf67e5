"""NumPy replica of ``torch.manual_seed(seed)`` followed by ``torch.randn`` (or ``nn.Linear``'s
default initialisation) on the CPU.

Seed 002 draws its noise and its initial parameters from torch's generator. Replaying that
stream in NumPy lets the NumPy and analytic paths build the same data without importing torch.

torch's CPU generator is the standard MT19937, seeded like NumPy's legacy ``RandomState``.
- Tensors with fewer than 16 elements take the scalar path: Box-Muller on two 53-bit doubles,
  exact here to the last bit.
- Larger float32 tensors take the vectorised path: 24-bit uniforms transformed 16 at a time
  (the tail re-drawn), which torch evaluates with SLEEF's log/sin/cos; NumPy's functions
  differ from SLEEF's by at most 3 ulps, so those values agree to float32 rounding.
- ``uniform_`` on float32 (what ``nn.Linear`` initialises with) is exact to the last bit.
"""
from __future__ import annotations

import math

import numpy as np

_VECTOR_MIN = 16


class TorchRandn:
    """A stream of ``torch.randn`` draws for one ``torch.manual_seed(seed)``."""

    def __init__(self, seed: int) -> None:
        self._bits = np.random.MT19937()
        self._bits._legacy_seeding(int(seed))
        self._cached_normal: float | None = None

    def _raw32(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n).astype(np.uint64)

    def _uniform24(self, n: int) -> np.ndarray:
        return (self._raw32(n) & 0xFFFFFF).astype(np.float32) * np.float32(2.0**-24)

    def _uniform53(self) -> float:
        hi, lo = (int(v) for v in self._raw32(2))
        return (((hi << 32) | lo) & ((1 << 53) - 1)) * 2.0**-53

    @staticmethod
    def _box_muller_16(u: np.ndarray) -> np.ndarray:
        u1 = np.float32(1) - u[:8]
        radius = np.sqrt(np.float32(-2) * np.log(u1))
        theta = np.float32(2 * math.pi) * u[8:]
        return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)]).astype(np.float32)

    def _scalar_normal(self) -> float:
        if self._cached_normal is not None:
            value, self._cached_normal = self._cached_normal, None
            return value
        u1, u2 = self._uniform53(), self._uniform53()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._cached_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def uniform(self, n: int, low: float, high: float) -> np.ndarray:
        """The float32 values ``torch.empty(n).uniform_(low, high)`` gives next, as float64."""
        # torch: bounds cast to float32, their difference in float32, the rest in double.
        lo, hi = np.float32(low), np.float32(high)
        unit = (self._raw32(n) & 0xFFFFFF).astype(np.float64) * 2.0**-24
        return (unit * np.float64(np.float32(hi - lo)) + np.float64(lo)).astype(np.float32).astype(np.float64)

    def randn(self, n: int) -> np.ndarray:
        """The float32 values ``torch.randn(n)`` returns next, as a float64 array."""
        if n < _VECTOR_MIN:
            return np.array([np.float32(self._scalar_normal()) for _ in range(n)], dtype=np.float64)
        data = self._uniform24(n)
        for start in range(0, n - _VECTOR_MIN + 1, _VECTOR_MIN):
            data[start:start + _VECTOR_MIN] = self._box_muller_16(data[start:start + _VECTOR_MIN])
        if n % _VECTOR_MIN:
            data[n - _VECTOR_MIN:] = self._box_muller_16(self._uniform24(_VECTOR_MIN))
        return data.astype(np.float64)


def nn_linear_init(seed: int, in_features: int) -> tuple[np.ndarray, float]:
    """The weight and bias ``torch.manual_seed(seed); nn.Linear(in_features, 1)`` starts from.

    reset_parameters() draws the weight with kaiming_uniform_(a=√5) — bound 1/√fan_in — then
    the bias from U(−1/√fan_in, 1/√fan_in).
    """
    stream = TorchRandn(seed)
    gain = math.sqrt(2.0 / (1 + 5))
    weight_bound = math.sqrt(3.0) * gain / math.sqrt(in_features)
    bias_bound = 1 / math.sqrt(in_features)
    weight = stream.uniform(in_features, -weight_bound, weight_bound)
    bias = float(stream.uniform(1, -bias_bound, bias_bound)[0])
    return weight, bias
