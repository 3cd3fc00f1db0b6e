"""The lectures' worked examples and teaching tools: the step trace, forward- versus
reverse-mode derivatives, the perceptron and logic gates.
"""

from .forward_mode import backprop_gradients, forward_mode_gradients, operation_counts
from .perceptron import NotLinearlySeparableWarning, Perceptron, logic_gate_network
from .trace import StepTrace, trace_step
from .worked_examples import LECTURES, lecture, worked_example

__all__ = [
    "LECTURES",
    "NotLinearlySeparableWarning",
    "Perceptron",
    "StepTrace",
    "backprop_gradients",
    "forward_mode_gradients",
    "lecture",
    "logic_gate_network",
    "operation_counts",
    "trace_step",
    "worked_example",
]
