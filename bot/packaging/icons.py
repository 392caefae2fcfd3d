"""The Teams app icons, drawn in code so they can be rebuilt and checked, not hand-edited.

Teams wants a 192×192 full-colour icon and a 32×32 outline icon that is white on a fully
transparent background. Both show a speech bubble with a tick ("is this OK to post?").
The PNGs are written with zlib and struct: no imaging library in the dependencies.
Edges are anti-aliased by sampling each pixel on a grid; in the outline icon that only
changes alpha, so every visible pixel stays pure white.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib
from collections.abc import Callable, Sequence

COLOR_SIZE = 192
OUTLINE_SIZE = 32
BACKGROUND = (0x5C, 0x2D, 0x91)  # Parliament purple; also the manifest's accentColor
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis: 16 samples a pixel for smooth edges

Point = tuple[float, float]
Shape = Callable[[float, float], bool]  # (x, y) in 0..1 of the icon -> inside?


def _in_rounded_rect(
    x: float, y: float, box: tuple[float, float, float, float], radius: float
) -> bool:
    left, top, right, bottom = box
    if not (left <= x <= right and top <= y <= bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _in_triangle(x: float, y: float, a: Point, b: Point, c: Point) -> bool:
    def side(p: Point, q: Point) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    return (d1 >= 0 and d2 >= 0 and d3 >= 0) or (d1 <= 0 and d2 <= 0 and d3 <= 0)


def _near_segment(x: float, y: float, a: Point, b: Point, half_width: float) -> bool:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= half_width


BUBBLE = (0.14, 0.18, 0.86, 0.70)
BUBBLE_RADIUS = 0.14
TAIL = ((0.26, 0.66), (0.46, 0.66), (0.22, 0.86))
TICK = ((0.33, 0.44), (0.45, 0.56), (0.67, 0.33))
TICK_HALF_WIDTH = 0.055


def bubble_with_tick(x: float, y: float) -> bool:
    """The mark: a speech bubble with its tail, the tick cut out of it."""
    in_bubble = _in_rounded_rect(x, y, BUBBLE, BUBBLE_RADIUS) or _in_triangle(x, y, *TAIL)
    in_tick = _near_segment(x, y, TICK[0], TICK[1], TICK_HALF_WIDTH) or _near_segment(
        x, y, TICK[1], TICK[2], TICK_HALF_WIDTH
    )
    return in_bubble and not in_tick


def coverage(shape: Shape, size: int) -> list[list[float]]:
    """Fraction (0..1) of each pixel inside `shape`, row by row."""
    step = 1.0 / (size * SAMPLES)
    offsets = [(i + 0.5) * step for i in range(SAMPLES)]
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            hits = sum(shape(px / size + ox, py / size + oy) for oy in offsets for ox in offsets)
            row.append(hits / (SAMPLES * SAMPLES))
        rows.append(row)
    return rows


def color_pixels(size: int = COLOR_SIZE) -> list[list[tuple[int, int, int]]]:
    """White mark blended onto the solid background: RGB, opaque by construction."""

    def blend(c: float) -> tuple[int, int, int]:
        r, g, b = (round(bg + (fg - bg) * c) for bg, fg in zip(BACKGROUND, WHITE, strict=True))
        return r, g, b

    return [[blend(c) for c in row] for row in coverage(bubble_with_tick, size)]


def outline_pixels(size: int = OUTLINE_SIZE) -> list[list[tuple[int, int, int, int]]]:
    """White where the mark is, alpha from its coverage; (0, 0, 0, 0) everywhere else."""
    return [
        [(*WHITE, round(255 * c)) if c > 0 else (0, 0, 0, 0) for c in row]
        for row in coverage(bubble_with_tick, size)
    ]


def encode_png(pixels: Sequence[Sequence[tuple[int, ...]]]) -> bytes:
    """8-bit RGB (3 channels) or RGBA (4 channels) PNG, no filtering."""
    height, width = len(pixels), len(pixels[0])
    channels = len(pixels[0][0])
    colour_type = {3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


@functools.cache  # drawing takes most of a second; the bytes never change
def color_png() -> bytes:
    return encode_png(color_pixels())


@functools.cache
def outline_png() -> bytes:
    return encode_png(outline_pixels())
