"""Process exit codes of `lab`, documented in the README; CI scripts depend on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    READY = 0
    NOT_READY = 1
    INVALID_INPUT = 2
    LAB_ERROR = 3
    INTERRUPTED = 130


def exit_code_for(status: str, ready: bool) -> ExitCode:
    """The code a run ends with, live or rebuilt by `lab report`: a finished run is ready
    (0) or not (1); an interrupted one 130; one that failed, or whose journal ends without
    the run finishing (the lab died), 3."""
    if status == "completed":
        return ExitCode.READY if ready else ExitCode.NOT_READY
    if status == "interrupted":
        return ExitCode.INTERRUPTED
    return ExitCode.LAB_ERROR
