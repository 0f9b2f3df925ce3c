"""Transfer characteristics (ITU-T H.273 table 3) as functions from a signal 0..1 to linear
light 0..1 relative to SDR white, including HDR (PQ and HLG) brought down to SDR.

HDR → SDR, the tone map (see docs/colour.md):
1. PQ (SMPTE ST 2084, BT.2100) signals are absolute: the EOTF gives cd/m². HLG (BT.2100)
   signals are relative: the inverse OETF gives scene light, and the BT.2100 OOTF with a
   nominal 1000 cd/m² display (system gamma 1.2) gives display light in cd/m².
2. The BT.2390 EETF (ITU-R BT.2390, section 5.4.1: a Hermite spline knee in the PQ domain)
   maps the source range, 0..1000 cd/m², to the SDR range, 0..203 cd/m², where 203 cd/m² is
   HDR reference (diffuse) white (ITU-R BT.2408). Below the knee (about 88 cd/m²) light is
   unchanged; above it highlights are compressed instead of clipped: diffuse white lands at
   about 160 cd/m² (90 % of the sRGB signal), 1000 cd/m² at SDR white, anything brighter clips.
3. The result divided by 203 cd/m² is linear light relative to SDR white (1.0).

The map is applied to each of R, G and B (BT.2390 allows the EETF on R'G'B'), which makes it
one curve per channel and so an ICC tone reproduction curve; bright saturated colours
desaturate towards white a little, as with any per-channel map. 1000 cd/m² is assumed as the
mastering peak: imgproc does not read the clli/mdcv boxes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

SDR_WHITE = 203.0  # cd/m², HDR reference white (ITU-R BT.2408)
HDR_PEAK = 1000.0  # cd/m², assumed mastering peak of PQ; HLG's nominal display peak

PQ, HLG = 16, 18

# SMPTE ST 2084 constants
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# ARIB STD-B67 / BT.2100 HLG constants
_A = 0.17883277
_B = 1 - 4 * _A
_C = 0.5 - _A * math.log(4 * _A)
_HLG_GAMMA = 1.2  # BT.2100 system gamma at 1000 cd/m²


def pq_eotf(signal: float) -> float:
    """PQ signal 0..1 → cd/m² (0..10000)."""
    p = max(0.0, signal) ** (1 / _M2)
    return 10000.0 * (max(0.0, p - _C1) / (_C2 - _C3 * p)) ** (1 / _M1)


def pq_inverse_eotf(luminance: float) -> float:
    """cd/m² → PQ signal 0..1."""
    y = (max(0.0, luminance) / 10000.0) ** _M1
    return ((_C1 + _C2 * y) / (1 + _C3 * y)) ** _M2


def hlg_display_light(signal: float) -> float:
    """HLG signal 0..1 → cd/m² on the nominal 1000 cd/m² display (per channel)."""
    e = signal * signal / 3 if signal <= 0.5 else (math.exp((signal - _C) / _A) + _B) / 12
    return HDR_PEAK * e ** _HLG_GAMMA


def bt2390_eetf(luminance: float, source_peak: float = HDR_PEAK,
                target_peak: float = SDR_WHITE) -> float:
    """cd/m² mastered up to `source_peak` → cd/m² on a display peaking at `target_peak`."""
    source_max = pq_inverse_eotf(source_peak)
    e1 = min(1.0, pq_inverse_eotf(luminance) / source_max)
    max_lum = pq_inverse_eotf(target_peak) / source_max
    knee = 1.5 * max_lum - 0.5
    if e1 > knee:
        t = (e1 - knee) / (1 - knee)
        t2, t3 = t * t, t * t * t
        e1 = ((2 * t3 - 3 * t2 + 1) * knee + (t3 - 2 * t2 + t) * (1 - knee)
              + (-2 * t3 + 3 * t2) * max_lum)
    return pq_eotf(e1 * source_max)


def _pq_to_sdr(signal: float) -> float:
    return bt2390_eetf(pq_eotf(signal)) / SDR_WHITE


def _hlg_to_sdr(signal: float) -> float:
    return bt2390_eetf(hlg_display_light(signal)) / SDR_WHITE


def _bt709(signal: float) -> float:
    """Inverse of the BT.709/601/2020 OETF, as Chromium (skia's kRec709) and libavif do."""
    return signal / 4.5 if signal < 0.081 else ((signal + 0.099) / 1.099) ** (1 / 0.45)


def _smpte240(signal: float) -> float:
    return signal / 4.0 if signal < 0.0913 else ((signal + 0.1115) / 1.1115) ** (1 / 0.45)


def srgb_eotf(signal: float) -> float:
    return signal / 12.92 if signal <= 0.04045 else ((signal + 0.055) / 1.055) ** 2.4


def _st428(signal: float) -> float:
    return (52.37 / 48) * signal ** 2.6


# H.273 TransferCharacteristics → signal to linear light relative to SDR white.
_CURVES: dict[int, Callable[[float], float]] = {
    1: _bt709, 6: _bt709, 14: _bt709, 15: _bt709,
    4: lambda v: v ** 2.2, 5: lambda v: v ** 2.8,
    7: _smpte240, 8: lambda v: v, 13: srgb_eotf, 17: _st428,
    PQ: _pq_to_sdr, HLG: _hlg_to_sdr,
}
# Reserved and unspecified mean sRGB (MIAF 7.3.6.4); so, here, do the rare curves imgproc does
# not model (log, xvYCC, BT.1361), which no still-image encoder writes.
SRGB_LIKE = frozenset(range(256)) - (_CURVES.keys() - {13})


def curve_of(transfer: int) -> Callable[[float], float]:
    """The curve for an H.273 transfer value (sRGB's for those in `SRGB_LIKE`)."""
    return _CURVES.get(transfer, srgb_eotf)


def table_of(transfer: int, size: int = 4096) -> list[float]:
    """The curve sampled evenly over 0..1, clamped to 0..1, for an ICC curveType."""
    curve = curve_of(transfer)
    return [min(1.0, max(0.0, curve(i / (size - 1)))) for i in range(size)]
