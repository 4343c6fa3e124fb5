"""Job records, their state machine and their DynamoDB store."""

from forgesyte_core.jobs.model import TERMINAL, Job, JobStatus, can_transition

__all__ = ["TERMINAL", "Job", "JobStatus", "can_transition"]
