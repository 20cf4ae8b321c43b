"""A function as a computation graph: the chain rule, node by node.

Nodes are the elementary operations of a parsed function. A variable is one leaf however
often it is used, and an identical subexpression is one node (`sin(x)^2 + sin(x)` computes
`sin(x)` once and uses it twice), so every value used twice shows as a node with two
consumers, where backpropagation adds the gradients of both paths. Numbers and constants
are not nodes: they belong to the operation that uses them (`3*x` is one node).

Each edge (a node and one of its inputs) carries its local derivative, a math-language
tree in terms of the node's inputs (`cos(u1)` for `u2 = sin(u1)`). `evaluate` gives every
node's forward value and its gradient (the derivative of the function with respect to
that node, the adjoint backpropagation leaves there) at a point or at many points at
once; local derivative values come from torch autograd on each node's own formula, so
kinks follow PyTorch (`relu'(0) = 0`). `assemble` writes the derivative as the sum, over
the paths from the output to a variable, of the products of their local derivatives,
simplified. torch is imported only by the numeric parts.
"""

from __future__ import annotations

from .derivative import assemble, path_product
from .drawing import DrawnRow, draw
from .evaluation import Evaluation, backward, choose_point, evaluate, point_tensors
from .explain import (
    backward_line,
    consumer_terms,
    explain,
    explain_text,
    fanout_note,
    fmt,
    gradient_sum,
    name,
    node_label,
    paren,
)
from .model import MAX_NODES, MAX_PATHS, OPS, Graph, GraphNode, build_graph

__all__ = [
    "DrawnRow",
    "Evaluation",
    "Graph",
    "GraphNode",
    "MAX_NODES",
    "MAX_PATHS",
    "OPS",
    "assemble",
    "backward",
    "backward_line",
    "build_graph",
    "choose_point",
    "consumer_terms",
    "draw",
    "evaluate",
    "explain",
    "explain_text",
    "fanout_note",
    "fmt",
    "gradient_sum",
    "name",
    "node_label",
    "paren",
    "path_product",
    "point_tensors",
]
