"""ForgeSyte plugin contract: ``name``, ``tools``, ``run_tool``; manifest.json beside this file.

Images only: a video tool raises ValueError, as ForgeSyte's OCR plugin does.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from forgesyte_rapidocr.reading_order import Block, reading_order

# RapidOCR's default upscales detection input so its short side is 736 px: about 1 s for one line
# of text. Upscaling only images under 128 px keeps small text readable at ~0.1 s a line.
# RapidOCR logs model paths at INFO and "result is empty" as a warning, in colour and outside the
# service's JSON logs; an empty result is already visible in the output, so only errors are kept.
ENGINE_PARAMS = {
    "Det.limit_type": "min",
    "Det.limit_side_len": 128,
    "Global.use_cls": False,
    "Global.log_level": "error",
}
TOOLS = ("analyze", "default")


class Plugin:
    name = "rapidocr"

    def __init__(self) -> None:
        self.tools: dict[str, dict[str, Any]] = {
            tool: {
                "description": "Text in an image",
                "input_schema": {"image_bytes": "bytes"},
                "output_schema": {"text": "string", "blocks": "array"},
                "handler": "analyze",
            }
            for tool in TOOLS
        }
        self._engine: Any = None

    @property
    def engine(self) -> Any:
        if self._engine is None:  # loaded on first use, kept for the warm container
            from rapidocr import RapidOCR

            self._engine = RapidOCR(params=ENGINE_PARAMS)
        return self._engine

    def run_tool(self, tool_name: str, args: dict[str, Any]) -> Any:
        if tool_name not in TOOLS:
            raise ValueError(f"Unknown tool: {tool_name} (the rapidocr plugin reads images; tools: {', '.join(TOOLS)})")
        if "image_bytes" not in args:
            raise ValueError("the ocr plugin needs image_bytes")
        return self.analyze(args["image_bytes"], args.get("options") or {})

    def analyze(self, image_bytes: bytes, options: dict[str, Any]) -> dict[str, Any]:
        image = cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("image_bytes is not a decodable image")
        output = self.engine(image)
        blocks = []
        for box, text, score in zip(
            output.boxes if output.boxes is not None else [], output.txts or (), output.scores or (), strict=False
        ):
            points = np.asarray(box, dtype=float)
            x1, y1 = points.min(axis=0)
            x2, y2 = points.max(axis=0)
            blocks.append(Block(str(text), (float(x1), float(y1), float(x2), float(y2)), float(score)))
        min_confidence = float(options.get("min_confidence", 0.0))
        lines = reading_order([b for b in blocks if b.confidence >= min_confidence])
        ordered = [block for line in lines for block in line]
        return {
            "text": "\n".join(" ".join(block.text for block in line) for line in lines),
            "blocks": [
                {"text": b.text, "bbox": [round(v, 1) for v in b.bbox], "confidence": round(b.confidence, 4)}
                for b in ordered
            ],
            "confidence": round(sum(b.confidence for b in ordered) / len(ordered), 4) if ordered else 0.0,
            "language": str(options.get("language", "en")),
            "image_size": {"width": int(image.shape[1]), "height": int(image.shape[0])},
        }
