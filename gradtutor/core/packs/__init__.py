"""Lesson packs: the model, the loader, the blocks, the lesson graph.

model.py    the frozen dataclasses, each its own TOML schema (`keys_of`)
loader.py   a pack directory to a Pack, every problem located
files.py    reading files: sizes, links out of the pack, encodings
fences.py   where the meaningful fenced blocks are (markdown-it, cached)
blocks.py   reading exercise, stepper and training blocks
graph.py    the lessons' `requires`: unknown names, duplicates, cycles
"""

from .fences import BLOCK_KINDS, FENCES, Fence, FenceCache, load_fence_cache, save_fence_cache
from .loader import SLUG, load_lesson, load_pack
from .model import (
    EXERCISE_CLASSES,
    EXERCISE_KINDS,
    FORMAT_VERSION,
    TENSOR_TARGETS,
    TRAINING_CLASSES,
    TRAINING_METHODS,
    AdalineBlock,
    BrokenPack,
    ChoiceExercise,
    DerivativeExercise,
    Exercise,
    Feedback,
    FrontMatter,
    Lesson,
    LinearBlock,
    LoadResult,
    Manifest,
    Option,
    Pack,
    Prose,
    Segment,
    Shapes,
    StepperBlock,
    TensorExercise,
    TrainingBlock,
    ValueExercise,
    keys_of,
    toml,
)

__all__ = [
    "BLOCK_KINDS",
    "EXERCISE_CLASSES",
    "EXERCISE_KINDS",
    "FENCES",
    "FORMAT_VERSION",
    "SLUG",
    "TENSOR_TARGETS",
    "TRAINING_CLASSES",
    "TRAINING_METHODS",
    "AdalineBlock",
    "BrokenPack",
    "ChoiceExercise",
    "DerivativeExercise",
    "Exercise",
    "Feedback",
    "Fence",
    "FenceCache",
    "FrontMatter",
    "Lesson",
    "LinearBlock",
    "LoadResult",
    "Manifest",
    "Option",
    "Pack",
    "Prose",
    "Segment",
    "Shapes",
    "StepperBlock",
    "TensorExercise",
    "TrainingBlock",
    "ValueExercise",
    "keys_of",
    "load_fence_cache",
    "load_lesson",
    "load_pack",
    "save_fence_cache",
    "toml",
]
