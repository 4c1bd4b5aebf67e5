"""Two-dimensional slices of a quadratic loss, as the landscape picture draws them.

Every demo's loss is quadratic in θ, so a slice through the held point ``h`` spanned by two unit
directions d₁, d₂ (rows of D) is a quadratic in the slice coordinates c:

  loss(h₀ + cD) − loss* = ½·(e₀ + cD)ᵀ H (e₀ + cD),   e₀ = h₀ − θ*

and each level set {loss − loss* = 10ᵏ} is an ellipse around the slice's own minimum. The picture
needs no grid of loss values: the contours are those ellipses, exact at any zoom, for the price of
one 2 × 2 eigen-decomposition. Excesses are computed as ½Σλᵢyᵢ² in H's eigenbasis, never as a
difference of two losses, so a level a billion times below loss* is still exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analytic import QuadraticLoss

LEVEL_STEP = 0.5  # decades between contour levels
MAX_LEVELS = 16  # eight decades of contours: radii shrink by 10⁴ from the outermost to the innermost
ELLIPSE_POINTS = 64
MARGIN = 0.12  # of the frame's span on every side
FAR = 1e3  # an ellipse's radius is capped at this many frame spans (a flat direction's are unbounded)


@dataclass(frozen=True)
class SliceAxes:
    """The plane of a slice: θ = origin + c₁·d₁ + c₂·d₂ for slice coordinates c = (c₁, c₂)."""

    origin: np.ndarray  # (p,)
    directions: np.ndarray  # (2, p), orthonormal rows
    labels: tuple[str, str]
    curvatures: tuple[float, float]  # the loss's second derivative along d₁ and d₂

    def coords(self, theta: np.ndarray) -> np.ndarray:
        """Slice coordinates of θ of shape (..., p): its projection onto the plane."""
        return (np.asarray(theta, dtype=np.float64) - self.origin) @ self.directions.T

    def theta(self, coords: np.ndarray) -> np.ndarray:
        """θ at slice coordinates of shape (..., 2)."""
        return self.origin + np.asarray(coords, dtype=np.float64) @ self.directions

    @property
    def flatness(self) -> float:
        """How many times flatter the flatter axis is than the steeper one (∞ if one is flat)."""
        low, high = sorted(self.curvatures)
        return high / low if low > 0 else float("inf")


def parameter_axes(quad: QuadraticLoss, held: np.ndarray, i: int, j: int, names: tuple[str, ...]) -> SliceAxes:
    """Parameters i and j free, every other parameter held at ``held``: coordinates are θᵢ and θⱼ."""
    origin = np.asarray(held, dtype=np.float64).copy()
    origin[[i, j]] = 0.0
    directions = np.eye(len(origin))[[i, j]]
    return SliceAxes(origin, directions, (names[i], names[j]), (float(quad.hessian[i, i]), float(quad.hessian[j, j])))


def eigen_axes(quad: QuadraticLoss, held: np.ndarray, a: int, b: int) -> SliceAxes:
    """Along the Hessian's eigen-directions a and b (ascending λ), through ``held``'s projection:
    the optimum sits at (0, 0) and the contours are ellipses aligned with the axes."""
    directions = quad.eigvecs[:, [a, b]].T.copy()
    error = np.asarray(held, dtype=np.float64) - quad.optimum
    origin = quad.optimum + error - (error @ directions.T) @ directions
    labels = (eigen_label(quad, a), eigen_label(quad, b))
    return SliceAxes(origin, directions, labels, (float(quad.eigvals[a]), float(quad.eigvals[b])))


def eigen_label(quad: QuadraticLoss, index: int) -> str:
    """'v₁ (λ = 0.0017)': the index counts from the flattest direction."""
    subscript = str(index + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    return f"v{subscript} (λ = {quad.eigvals[index]:.3g})"


def frame_for(points: np.ndarray, margin: float = MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """The box (low corner, high corner) holding every finite point of shape (k, 2), with a margin
    of ``margin`` of its span on every side; a side of zero span gets one of its own size (or 1)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    points = points[np.all(np.isfinite(points), axis=1)]
    if not len(points):
        return np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = hi - lo
    flat = span <= 1e-12 * np.maximum(np.abs(hi), np.abs(lo))
    span = np.where(flat, np.maximum(0.2 * np.maximum(np.abs(lo), np.abs(hi)), 1.0), span)
    pad = np.where(flat, span / 2, margin * span)
    return lo - pad, hi + pad


@dataclass(frozen=True)
class Landscape:
    """One slice, ready to draw: its frame, the filled contour levels and their ellipses."""

    axes: SliceAxes
    lo: np.ndarray  # (2,) low corner of the frame, in slice coordinates
    hi: np.ndarray  # (2,)
    levels: np.ndarray  # log₁₀(loss − loss*) of each contour, descending: draw in this order
    contours: tuple[np.ndarray, ...]  # one closed (ELLIPSE_POINTS + 1, 2) polygon per level
    minimum: np.ndarray  # (2,) where the slice's loss is lowest
    minimum_excess: float  # loss − loss* there (0 when the slice passes through θ*)


def excess(quad: QuadraticLoss, theta: np.ndarray) -> np.ndarray:
    """loss(θ) − loss* for θ of shape (..., p), without subtracting two large numbers."""
    coords = (np.asarray(theta, dtype=np.float64) - quad.optimum) @ quad.eigvecs
    return 0.5 * np.sum(quad.eigvals * coords**2, axis=-1)


def slice_landscape(quad: QuadraticLoss, axes: SliceAxes, frame_points: np.ndarray) -> Landscape:
    """The contours of log₁₀(loss − loss*) over the frame holding ``frame_points`` (slice coordinates,
    shape (k, 2): the start, the optimum, the path). The outermost ellipse covers the whole frame."""
    lo, hi = frame_for(frame_points)
    curvature = axes.directions @ quad.hessian @ axes.directions.T  # A: the slice's Hessian
    gradient = axes.directions @ quad.hessian @ (axes.origin - quad.optimum)  # b: its gradient at c = 0
    minimum = -np.linalg.pinv(curvature, rcond=1e-13) @ gradient
    floor = float(excess(quad, axes.theta(minimum)))
    corners = np.array([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])
    top = float(np.max(excess(quad, axes.theta(corners))))  # a convex function peaks at a corner
    if not np.isfinite(top) or top <= 0:
        return Landscape(axes, lo, hi, np.empty(0), (), minimum, floor)
    first = np.ceil(np.log10(top) / LEVEL_STEP) * LEVEL_STEP
    levels = first - LEVEL_STEP * np.arange(MAX_LEVELS)
    levels = levels[10.0**levels > floor]
    alphas, rotation = np.linalg.eigh(curvature)
    reach = FAR * float(np.max(hi - lo))
    angle = np.linspace(0.0, 2 * np.pi, ELLIPSE_POINTS + 1)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    contours = []
    for level in levels:
        height = 10.0**level - floor
        with np.errstate(divide="ignore"):
            radii = np.where(alphas > 0, np.sqrt(2 * height / np.maximum(alphas, 1e-300)), reach)
        contours.append(minimum + (circle * np.minimum(radii, reach)) @ rotation.T)
    return Landscape(axes, lo, hi, levels, tuple(contours), minimum, floor)


def visible_path(coords: np.ndarray, lo: np.ndarray, hi: np.ndarray, tolerance: float = 0.002) -> np.ndarray:
    """Indices of the path points a picture of the frame needs: the first, the last, and every point
    that enters another cell of a grid ``tolerance`` of the frame wide. A run that crawls along a
    valley for a million steps keeps the few points that show it moving; a zig-zag keeps every turn."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if len(coords) <= 2:
        return np.arange(len(coords))
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = (coords - lo) / (np.where(hi > lo, hi - lo, 1.0) * tolerance)
        finite = np.all(np.isfinite(scaled), axis=1)
        cells = np.floor(np.where(np.isfinite(scaled), np.clip(scaled, -1e15, 1e15), 0.0))
    moved = np.any(cells[1:] != cells[:-1], axis=1) & finite[1:]
    keep = np.flatnonzero(moved) + 1
    return np.unique(np.concatenate([[0], keep, [len(coords) - 1]])).astype(np.int64)


def frame_points(quad: QuadraticLoss, axes: SliceAxes, start: np.ndarray, path: np.ndarray,
                 bound: float = 100.0) -> np.ndarray:
    """What the frame must hold, in slice coordinates: the start, the optimum and every point of the
    path whose loss stays within ``bound`` × the start's excess (a diverging run would otherwise
    shrink the whole picture to a dot)."""
    start = np.asarray(start, dtype=np.float64)
    path = np.asarray(path, dtype=np.float64).reshape(-1, len(start))
    limit = bound * max(float(excess(quad, start)), 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        near = path[np.all(np.isfinite(path), axis=1)]
        near = near[excess(quad, near) <= limit] if len(near) else near
    return axes.coords(np.vstack([start[None, :], quad.optimum[None, :], near]))


@dataclass(frozen=True)
class SliceChoice:
    """Which slice to draw: parameters (i, j), or the Hessian's eigen-directions (i, j) when ``eigen``."""

    i: int
    j: int
    eigen: bool = False


def slice_axes(quad: QuadraticLoss, held: np.ndarray, choice: SliceChoice, names: tuple[str, ...]) -> SliceAxes:
    if choice.eigen:
        return eigen_axes(quad, held, choice.i, choice.j)
    return parameter_axes(quad, held, choice.i, choice.j, names)


def run_landscape(quad: QuadraticLoss, choice: SliceChoice, names: tuple[str, ...], held: np.ndarray,
                  start: np.ndarray, path: np.ndarray) -> tuple[SliceAxes, Landscape]:
    """The slice through ``held`` (the step shown) and its contours over a frame holding the run."""
    axes = slice_axes(quad, held, choice, names)
    return axes, slice_landscape(quad, axes, frame_points(quad, axes, start, path))


# --- a start picked on the picture -------------------------------------------------------------------

PICK_CELLS = 24  # a click on the landscape picks the nearest of PICK_CELLS² points spread over its frame
PICK_RESOLUTION = 1e-3  # of the frame's span: a picked start reads as a short number, not a pixel's float


def pick_points(lo: np.ndarray, hi: np.ndarray, cells: int = PICK_CELLS) -> np.ndarray:
    """Slice coordinates of shape (cells², 2) on an even grid over the frame [lo, hi], edges included:
    the picture's invisible targets, so a click anywhere on it lands on the nearest one."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], cells), np.linspace(lo[1], hi[1], cells))
    return np.column_stack([u.ravel(), v.ravel()])


def _rounded(value: float, span: float) -> float:
    """``value`` to the nearest multiple of a power of ten about PICK_RESOLUTION × span."""
    if not np.isfinite(span) or span <= 0:
        return float(value)
    unit = 10.0 ** np.floor(np.log10(span * PICK_RESOLUTION))
    return float(f"{round(value / unit) * unit:.12g}")


def picked_start(point: np.ndarray, lo: np.ndarray, hi: np.ndarray, axes: SliceAxes | None = None) -> tuple[float, ...]:
    """θ₀ for a start picked at ``point`` (slice coordinates, or θ itself on a one-parameter picture
    where ``axes`` is None) in the frame [lo, hi]: each coordinate rounded to a thousandth of the
    frame's span, then taken through the slice's plane (the other parameters stay where the slice
    holds them)."""
    point = np.atleast_1d(np.asarray(point, dtype=np.float64))
    lo, hi = np.atleast_1d(np.asarray(lo, dtype=np.float64)), np.atleast_1d(np.asarray(hi, dtype=np.float64))
    coords = np.array([_rounded(c, s) for c, s in zip(point, hi - lo)])
    theta = coords if axes is None else axes.theta(coords)
    return tuple(float(v) for v in theta)
