"""Verdicts: is the learner right, and if not, why?

verdict.py     the Verdict type and the shared tolerances
reference.py   a derivative's reference: sampled points, autograd's values there
derivative.py  derivative answers: autograd at the points, sympy to confirm
diagnosis.py   what a wrong derivative got wrong, and a counterexample
value.py       value answers against what autograd computes
tensor.py      tensor answers against a real backward(), with a table of diagnoses
dispatch.py    check_exercise for every kind, and the reference answer text
"""

from ..packs import NETWORK_NAMES
from .derivative import check_derivative
from .diagnosis import counterexample, diagnose, nice_number
from .dispatch import check_choice, check_exercise, reference_text
from .reference import (
    CANDIDATES,
    KINK_MARGIN,
    MIN_POINTS,
    DerivativeReference,
    ReferenceError_,
    autograd_at,
    derivative_reference,
)
from .tensor import (
    UPSTREAM,
    allowed_names,
    check_tensor,
    evaluate_tensor_answer,
    network_environment,
    parse_tensor_answer,
    same,
    tensor_reference,
)
from .value import (
    cached_value_reference,
    check_value,
    parse_value_answer,
    tensor_text,
    value_reference,
)
from .verdict import ATOL, RTOL, TENSOR_ATOL, TENSOR_RTOL, Verdict, VerdictKind, invalid

__all__ = [
    "freeze_imports",
    "ATOL",
    "CANDIDATES",
    "KINK_MARGIN",
    "MIN_POINTS",
    "NETWORK_NAMES",
    "RTOL",
    "TENSOR_ATOL",
    "TENSOR_RTOL",
    "DerivativeReference",
    "ReferenceError_",
    "Verdict",
    "VerdictKind",
    "autograd_at",
    "cached_value_reference",
    "check_choice",
    "check_derivative",
    "check_exercise",
    "check_tensor",
    "check_value",
    "counterexample",
    "derivative_reference",
    "diagnose",
    "evaluate_tensor_answer",
    "invalid",
    "network_environment",
    "parse_tensor_answer",
    "UPSTREAM",
    "allowed_names",
    "nice_number",
    "parse_value_answer",
    "reference_text",
    "same",
    "tensor_reference",
    "tensor_text",
    "value_reference",
]


def freeze_imports() -> None:
    """Once torch and the checker are imported: move every object alive now out of the
    garbage collector's reach (gc.freeze). torch brings hundreds of thousands of objects;
    a full collection that walks them all paused a check for about 100 ms."""
    import gc

    gc.collect()
    gc.freeze()
