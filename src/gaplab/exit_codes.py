"""Process exit codes of `lab`, documented in the README; CI scripts depend on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    READY = 0
    NOT_READY = 1
    INVALID_INPUT = 2
    LAB_ERROR = 3
    INTERRUPTED = 130
