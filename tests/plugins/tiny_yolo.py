"""A tiny ONNX graph in the YOLOv8/YOLO11 export format whose output the tests choose.

Input ``images`` [1, 3, 64, 64]; output ``output0`` [1, 4 + classes, anchors] equal to a constant
(plus 0 × the input's mean, so the input is really consumed). Names go in the metadata as the
Python dict literal Ultralytics writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def candidate(cx: float, cy: float, w: float, h: float, class_id: int, score: float, classes: int) -> np.ndarray:
    column = np.zeros(4 + classes, np.float32)
    column[:4] = (cx, cy, w, h)
    column[4 + class_id] = score
    return column


def write_tiny_yolo(
    path: Path, candidates: list[np.ndarray], names: dict[int, str], size: int = 64, dynamic: bool = False
) -> Path:
    """``dynamic``: height and width are symbolic, as in ``yolo export dynamic=True``."""
    output = np.stack(candidates, axis=1)[None].astype(np.float32)  # [1, 4 + classes, anchors]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["constant", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-yolo",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, [1, 3, *(("h", "w") if dynamic else (size, size))]
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        initializer=[numpy_helper.from_array(output, "constant"), numpy_helper.from_array(np.float32(0), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"names": repr(names), "imgsz": f"[{size}, {size}]", "task": "detect"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
