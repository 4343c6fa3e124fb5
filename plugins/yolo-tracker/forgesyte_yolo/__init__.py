"""The yolo-tracker plugin: YOLO (v8/v11 export format) ONNX detection, tracked with ByteTrack."""
