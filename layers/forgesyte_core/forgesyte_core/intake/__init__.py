"""Intake: admitting a job (submit, multipart, drops) and validating its upload on arrival (ingest)."""
