"""ThumbHash encoder: a port of Evan Wallace's reference `rgbaToThumbHash` (MIT licence).

Why our own: the one pure-Python package on PyPI (thumbhash 0.1.2, unmaintained since 2023)
crashes on any picture with transparency, and the compiled ones ship no arm64 wheels for Lambda.
The algorithm is short: a small DCT of luminance, two chroma channels and alpha, packed into
nibbles. Inputs are at most 100×100; imgproc feeds 32 px, which gives the same hash.
"""

from __future__ import annotations

import math


def _round(value: float) -> int:
    """JavaScript's Math.round (half up), which the reference encoder uses."""
    return math.floor(value + 0.5)


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    if not (0 < width <= 100 and 0 < height <= 100):
        raise ValueError(f"{width}x{height} doesn't fit in 100x100")
    pixels = width * height
    alphas = [rgba[i + 3] / 255 for i in range(0, pixels * 4, 4)]
    total_alpha = sum(alphas)
    averages = [0.0, 0.0, 0.0]
    if total_alpha:
        for channel in range(3):
            averages[channel] = sum(
                alpha / 255 * rgba[i * 4 + channel] for i, alpha in enumerate(alphas)
            ) / total_alpha
    has_alpha = total_alpha < pixels
    l_limit = 5 if has_alpha else 7
    lx = max(1, _round(l_limit * width / max(width, height)))
    ly = max(1, _round(l_limit * height / max(width, height)))

    lum, p_chroma, q_chroma = [], [], []
    for i, alpha in enumerate(alphas):
        r, g, b = (averages[c] * (1 - alpha) + alpha / 255 * rgba[i * 4 + c] for c in range(3))
        lum.append((r + g + b) / 3)
        p_chroma.append((r + g) / 2 - b)
        q_chroma.append(r - g)

    def encode_channel(channel: list[float], nx: int, ny: int):
        dc, ac, scale = 0.0, [], 0.0
        for cy in range(ny):
            fy = [math.cos(math.pi / height * cy * (y + 0.5)) for y in range(height)]
            cx = 0
            while cx * ny < nx * (ny - cy):
                fx = [math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)]
                total = 0.0
                for y in range(height):  # same operation order as the reference: same bits
                    row, weight = y * width, fy[y]
                    for x in range(width):
                        total += channel[row + x] * fx[x] * weight
                total /= pixels
                if cx or cy:
                    ac.append(total)
                    scale = max(scale, abs(total))
                else:
                    dc = total
                cx += 1
        if scale:
            ac = [0.5 + 0.5 / scale * value for value in ac]
        return dc, ac, scale

    l_dc, l_ac, l_scale = encode_channel(lum, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = encode_channel(p_chroma, 3, 3)
    q_dc, q_ac, q_scale = encode_channel(q_chroma, 3, 3)
    landscape = width > height
    header24 = (_round(63 * l_dc) | (_round(31.5 + 31.5 * p_dc) << 6)
                | (_round(31.5 + 31.5 * q_dc) << 12) | (_round(31 * l_scale) << 18)
                | (int(has_alpha) << 23))
    header16 = ((ly if landscape else lx) | (_round(63 * p_scale) << 3)
                | (_round(63 * q_scale) << 9) | (int(landscape) << 15))
    packed = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255,
              header16 >> 8]
    channels = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = encode_channel(alphas, 5, 5)
        packed.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        channels.append(a_ac)
    start = len(packed)
    nibbles = [_round(15 * value) for ac in channels for value in ac]
    packed += [0] * ((len(nibbles) + 1) // 2)
    for index, nibble in enumerate(nibbles):
        packed[start + (index >> 1)] |= nibble << ((index & 1) << 2)
    return bytes(packed)
