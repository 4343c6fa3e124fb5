"""Rendered text lines with known content, and character accuracy (1 - character error rate).

Fonts: OpenCV's Hershey faces and Pillow's bundled FreeType face, at several sizes; dark text on a
light background and light on dark. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

LINES = [
    "Invoice 4471 due 2026-12-01",
    "Gate B12 boarding at 08:45",
    "Total amount EUR 1,249.90",
    "Serial number XK-20931-Q",
    "Keep this side up",
    "Parking level 3 row F",
    "Batch job finished in 42 s",
    "Speed limit 50 km/h",
    "ForgeSyte Serverless v0.1",
    "Exit 27 Main Street North",
    "Order ID 88213 shipped today",
    "Room 204 conference A",
    "Temperature 21.5 C humidity 40",
    "Platform 9 departs 17:32",
    "Call 555-0142 for support",
    "Lot 7 expires March 2027",
    "Warehouse dock 14 open",
    "Model YOLO11n at 640 px",
    "Meeting moved to Friday",
    "Scan the code to pay now",
]

HERSHEY = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX]


def _hershey(text: str, font: int, scale: float, invert: bool) -> NDArray[np.uint8]:
    thickness = max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, font, scale, thickness)
    pad = round(height * 0.6) + 4
    background, ink = ((30, 30, 30), (235, 235, 235)) if invert else ((250, 250, 245), (20, 20, 20))
    image = np.full((height + baseline + 2 * pad, width + 2 * pad, 3), background, np.uint8)
    cv2.putText(image, text, (pad, pad + height), font, scale, ink, thickness, cv2.LINE_AA)
    return image


def _freetype(text: str, size: int, invert: bool) -> NDArray[np.uint8]:
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 2 + 4
    background, ink = ((30, 30, 30), (235, 235, 235)) if invert else ((250, 250, 245), (20, 20, 20))
    canvas = (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad)
    image = Image.new("RGB", canvas, background)
    ImageDraw.Draw(image).text((pad - left, pad - top), text, font=font, fill=ink)
    return np.asarray(cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR), dtype=np.uint8)


def rendered_lines() -> Iterator[tuple[str, str, NDArray[np.uint8]]]:
    """(text, how it was rendered, BGR image) for each of the 20 lines."""
    for index, text in enumerate(LINES):
        invert = index % 5 == 4
        if index % 3 == 2:
            size = (18, 24, 32, 44)[index % 4]
            yield text, f"freetype {size}px{' inverted' if invert else ''}", _freetype(text, size, invert)
        else:
            font = HERSHEY[index % len(HERSHEY)]
            scale = (0.6, 0.8, 1.0, 1.4)[(index // 2) % 4]
            yield text, f"hershey {font} x{scale}{' inverted' if invert else ''}", _hershey(text, font, scale, invert)


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_accuracy(pairs: list[tuple[str, str]]) -> float:
    """1 - (total edit distance / total reference characters), spaces included."""
    errors = sum(edit_distance(truth, read) for truth, read in pairs)
    return 1.0 - errors / sum(len(truth) for truth, _ in pairs)
