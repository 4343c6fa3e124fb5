"""Runs inside .venv-ultralytics (never the project's environment): exports a dynamic YOLOv8n with
Ultralytics' own random initialisation, and times Ultralytics' ``track`` on request, so `make bench`
can interleave it with yolo-onnx. Protocol: one JSON request per stdin line, one JSON answer per
stdout line.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


def export_dynamic(path: str) -> dict[str, object]:
    """yolov8n.yaml with random weights, its stride-32 class bias set to 1 (about 70 boxes a frame after
    NMS, as ../shared/models' biased export), exported to ONNX with dynamic height and width."""
    import shutil

    import torch
    from ultralytics import YOLO

    torch.manual_seed(0)
    model = YOLO("yolov8n.yaml")
    head = model.model.model[-1]
    with torch.no_grad():
        head.cv3[2][-1].bias.fill_(1.0)
    exported = model.export(format="onnx", dynamic=True, imgsz=640, simplify=True, opset=17, verbose=False)
    shutil.move(str(exported), path)
    return {"path": path}


def track(model_path: str, video: str, frames: int, imgsz: int | None) -> dict[str, object]:
    from ultralytics import YOLO

    model = YOLO(model_path, task="detect")
    kwargs = {"imgsz": imgsz} if imgsz else {}
    stream = model.track(source=video, stream=True, verbose=False, device="cpu", tracker="bytetrack.yaml", **kwargs)
    first = next(stream)  # warm-up, as yolo-onnx's timing skips its first frame too
    shape = list(first.orig_shape)
    started, count, boxes = time.perf_counter(), 0, 0
    for result in stream:
        count += 1
        boxes += len(result.boxes)
        if count >= frames:
            break
    elapsed = time.perf_counter() - started
    return {"fps": count / elapsed, "frames": count, "boxes_per_frame": boxes / max(count, 1), "frame_shape": shape}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "export_dynamic":
            answer = export_dynamic(request["path"])
        else:
            answer = track(request["model"], request["video"], request["frames"], request.get("imgsz"))
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
