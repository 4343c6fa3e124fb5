"""The ocr plugin: text in images with RapidOCR, in ForgeSyte's OCR result shape."""
