"""The lessons of a pack as a graph: unique ids, known `requires`, no cycle."""

from __future__ import annotations

from collections.abc import Iterable

from ..problems import ProblemList
from .model import Lesson


def check_lesson_graph(lessons: list[Lesson], problems: ProblemList) -> None:
    """Unique lesson ids, known `requires`, and no cycle through requirements."""
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.id in by_id:
            problems.error(
                lesson.path,
                2,
                f'lesson id "{lesson.id}" is already used by {by_id[lesson.id].path.name}',
            )
        else:
            by_id[lesson.id] = lesson
    graph: dict[str, tuple[str, ...]] = {}
    for i, lesson in enumerate(lessons):
        if by_id[lesson.id] is not lesson:
            continue  # a duplicate, reported above: it takes no part in the graph
        if lesson.requires is None:
            graph[lesson.id] = (lessons[i - 1].id,) if i > 0 else ()
            continue
        for req in lesson.requires:
            if req not in by_id:
                problems.error(
                    lesson.path, lesson.requires_line, f'requires names an unknown lesson "{req}"'
                )
        graph[lesson.id] = tuple(r for r in lesson.requires if r in by_id)
    for cycle in _cycles(graph):
        first = by_id[cycle[0]]
        problems.error(
            first.path,
            first.requires_line,
            "lessons require each other in a cycle, so none can open: "
            + " -> ".join((*cycle, cycle[0])),
        )


def _cycles(graph: dict[str, tuple[str, ...]]) -> Iterable[list[str]]:
    """Each cycle once (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}
    found = []
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, ())
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    found.append(path[path.index(child) :])
                elif not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return found
