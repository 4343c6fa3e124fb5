"""The yolo-onnx plugin: YOLO (v8/v11 export format) ONNX detection, tracked with ByteTrack."""
