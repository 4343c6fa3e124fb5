"""RapidOCR returns text boxes unordered: put them in reading order, line by line, left to right."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    text: str
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2
    confidence: float

    @property
    def centre_y(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]


def reading_order(blocks: list[Block]) -> list[list[Block]]:
    """Lines of blocks: a block joins a line when its centre lies within half a line height."""
    lines: list[list[Block]] = []
    for block in sorted(blocks, key=lambda b: b.centre_y):
        if lines:
            line = lines[-1]
            line_centre = sum(b.centre_y for b in line) / len(line)
            line_height = max(b.height for b in line)
            if abs(block.centre_y - line_centre) <= line_height / 2:
                line.append(block)
                continue
        lines.append([block])
    return [sorted(line, key=lambda b: b.bbox[0]) for line in lines]
