"""Seeded inputs for virtual users: kinds, their mix, references and planted ground truth."""

from gaplab.load.inputs.base import InputSource, Planted, UserInput
from gaplab.load.inputs.mix import InputMix, UserStream
from gaplab.load.inputs.questions import Questions
from gaplab.load.inputs.reference import REFERENCE_RE, reference, references_in

__all__ = [
    "REFERENCE_RE",
    "InputMix",
    "InputSource",
    "Planted",
    "Questions",
    "UserInput",
    "UserStream",
    "reference",
    "references_in",
]
