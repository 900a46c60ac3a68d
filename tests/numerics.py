"""An independent numpy model of a transposed convolution: compute the full, uncropped result, then take
a window of it (docs/deconv-semantics.md section 1). Used as the oracle beside onnxruntime."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from polygraphy_deconv.core.window import AxisWindow


def full_transposed_convolution(
    x: np.ndarray, weight: np.ndarray, strides: Sequence[int], dilations: Sequence[int], group: int = 1
) -> np.ndarray:
    """full[n, m, ...] for x [N, C, I...] and weight [C, M/group, K...]; float64, no bias."""
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    kernel = weight.shape[2:]
    per_group_in, per_group_out = c // group, weight.shape[1]
    full_shape = [(i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(spatial, strides, kernel, dilations)]
    full = np.zeros((n, per_group_out * group, *full_shape), dtype=np.float64)
    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    for g in range(group):
        xs = x64[:, g * per_group_in : (g + 1) * per_group_in]
        ws = w64[g * per_group_in : (g + 1) * per_group_in]
        for k_index in itertools.product(*(range(k) for k in kernel)):
            # contribution of kernel tap k to positions i * S + k * D
            contrib = np.einsum("nc...,cm->nm...", xs, ws[(slice(None), slice(None), *k_index)])
            target = tuple(
                slice(k * d, k * d + (i - 1) * s + 1, s) for k, d, i, s in zip(k_index, dilations, spatial, strides)
            )
            full[(slice(None), slice(g * per_group_out, (g + 1) * per_group_out), *target)] += contrib
    return full


def crop(full: np.ndarray, window: Sequence[AxisWindow], bias: np.ndarray | None = None) -> np.ndarray:
    """out[j] = full[j + begin] (0 outside the full result) + bias, per spatial axis."""
    lengths = [a.full - a.begin - a.trim for a in window]  # type: ignore[operator]
    pad_before = [max(-a.begin, 0) for a in window]
    pad_after = [max(-a.trim, 0) for a in window]
    padded = np.pad(full, [(0, 0), (0, 0), *zip(pad_before, pad_after)])
    index = tuple(slice(max(a.begin, 0), max(a.begin, 0) + n) for a, n in zip(window, lengths))
    out = padded[(slice(None), slice(None), *index)]
    if bias is not None:
        out = out + bias.astype(np.float64).reshape(1, -1, *([1] * len(window)))
    return out
