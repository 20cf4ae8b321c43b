"""The instructor's report as one self-contained HTML page (inline styles and SVG, no
script, no external address): the grid, the grouped mistakes, who has not been seen."""

from __future__ import annotations

import html

from .report import _CELL_MARKS, Learner, Report, _top, cell, learner_row

_CELL_COLOURS = {"solved": "#3a8f4a", "revealed": "#d9a521", "tried": "#c8d4f0", "": "#fff"}


def stale_learners(report: Report, now: float | None = None, days: int = 7) -> list[Learner]:
    """Learners not seen for `days` days (those whose last activity is known)."""
    import time

    cutoff = time.strftime(
        "%Y-%m-%d %H:%M", time.gmtime((now if now is not None else time.time()) - days * 86_400)
    )
    return [le for le in report.learners if le.last_active and le.last_active < cutoff]


def to_html(report: Report) -> str:
    """One self-contained page: inline styles, inline SVG, no script, no external URL."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>gradtutor: class report</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:90em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:left;vertical-align:top}th{background:#f0f0f5}td.n{text-align:right}"
        "td.c{text-align:center;min-width:1.6em;padding:.2em}th.v{writing-mode:vertical-rl;"
        "font-weight:normal;font-size:.85em}"
        "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em}.warn{color:#a50}"
        "code{background:#f4f4f4;padding:0 .2em}</style></head><body>",
        "<h1>Class report</h1>",
        f"<p>{len(report.learners)} learner{'s' if len(report.learners) != 1 else ''}, "
        f"{len(report.exercises)} exercises tried.</p>",
    ]
    for warning in report.warnings:
        parts.append(f"<p class='warn'>⚠ {e(warning)}</p>")
    stale = stale_learners(report)
    if stale:
        names = ", ".join(f"{e(le.name)} (last {e(le.last_active)})" for le in stale)
        parts.append(f"<p class='warn'>Not seen for a week: {names}</p>")
    never = [le for le in report.learners if le.never_signed_in]
    if never:
        names = ", ".join(e(le.name) for le in never)
        parts.append(f"<p class='warn'>Never signed in: {names}</p>")
    parts.append(_svg_chart(report))
    parts.append(_html_grid(report))
    parts.append(
        "<h2>Learners</h2><table><tr><th>id</th><th>learner</th><th>last active</th>"
        "<th>lessons completed</th><th>solved</th><th>revealed</th><th>attempts</th><th>hints</th>"
    )
    parts += [f"<th>solved: {e(p)}</th>" for p in report.packs]
    parts.append("</tr>")
    for learner in report.learners:
        row = learner_row(learner, report.packs)
        cells = [
            f"<td>{e(learner.learner_id)}</td><td>{e(row['learner'])}</td>"
            f"<td>{e(learner.last_seen)}</td>"
        ]
        cells += [f"<td class='n'>{row[k]}</td>" for k in list(row)[1:]]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append(
        "</table><h2>Exercises</h2><table><tr><th>exercise</th><th>tried</th>"
        "<th>solved</th><th>at the first attempt</th><th>median attempts</th>"
        "<th>hints</th><th>revealed</th><th>common wrong answers</th>"
        "<th>what went wrong, by what fired</th></tr>"
    )
    for s in report.exercises:
        median = "" if s.median_attempts is None else f"{s.median_attempts:g}"
        groups = "<br>".join(
            f"×{n} {e(s.labels.get(g, g))}"
            + (
                " (" + ", ".join(f"<code>{e(x)}</code>" for x in s.examples.get(g, [])) + ")"
                if s.examples.get(g)
                else ""
            )
            for g, n in _top(s.groups)
        )
        name = f"{e(s.lesson)}/{e(s.exercise)}" + (
            f"<br><small>{e(s.title)}</small>" if s.title else ""
        )
        wrong = "<br>".join(f"<code>{e(a)}</code> ×{n}" for a, n in _top(s.wrong))
        parts.append(
            f"<tr><td>{name}</td><td class='n'>{s.tried}</td><td class='n'>{s.solved}</td>"
            f"<td class='n'>{s.first_attempt}</td><td class='n'>{median}</td>"
            f"<td class='n'>{s.hints}</td><td class='n'>{s.revealed}</td><td>{wrong}</td>"
            f"<td>{groups}</td></tr>"
        )
    parts.append("</table>")
    if report.untried:
        listed = ", ".join(f"{e(s.lesson)}/{e(s.exercise)}" for s in report.untried)
        parts.append(f"<h2>Nobody tried yet</h2><p>{listed}</p>")
    parts.append("<p><small>Made by gradtutor report.</small></p></body></html>")
    return "\n".join(parts)


def _html_grid(report: Report) -> str:
    """Learners × exercises, one coloured cell each, attempts beside the mark."""
    e = html.escape
    if not report.columns or not report.learners:
        return ""
    out = [
        "<h2>Who is where</h2><p><small>✓ solved · ◐ shown (revealed) · · tried; the "
        "number is attempts</small></p><table><tr><th>learner</th>"
    ]
    out += [f"<th class='v'>{e(s.lesson)}/{e(s.exercise)}</th>" for s in report.columns]
    out.append("</tr>")
    for learner in report.learners:
        out.append(f"<tr><td>{e(learner.name)}</td>")
        for s in report.columns:
            state, attempts = cell(learner, s)
            mark = _CELL_MARKS[state] + (str(attempts) if state and attempts else "")
            out.append(
                f"<td class='c' style='background:{_CELL_COLOURS[state]}' title='{e(state or 'not tried')}'>{mark}</td>"
            )
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _svg_chart(report: Report) -> str:
    """Solved (dark) and tried (light) per exercise, as horizontal bars."""
    e = html.escape
    rows = report.exercises
    if not rows:
        return "<p>No exercise was tried yet.</p>"
    most = max(max(s.tried for s in rows), 1)
    bar_h, gap, label_w, bar_w = 16, 6, 260, 360
    height = len(rows) * (bar_h + gap) + 30
    out = [
        f"<h2>Solved, by exercise</h2><svg width='{label_w + bar_w + 80}' "
        f"height='{height}' role='img' aria-label='solved by exercise'>",
        "<style>text{font:12px system-ui,sans-serif}</style>",
    ]
    for i, s in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        tried_w = bar_w * s.tried / most
        solved_w = bar_w * s.solved / most
        label = f"{s.lesson}/{s.exercise}"
        out.append(f"<text x='0' y='{y + 12}'>{e(label[:40])}</text>")
        out.append(
            f"<rect x='{label_w}' y='{y}' width='{tried_w:.1f}' height='{bar_h}' fill='#c8d4f0'/>"
        )
        out.append(
            f"<rect x='{label_w}' y='{y}' width='{solved_w:.1f}' height='{bar_h}' fill='#3a5bbf'/>"
        )
        out.append(
            f"<text x='{label_w + tried_w + 6:.1f}' y='{y + 12}'>{s.solved}/{s.tried}</text>"
        )
    out.append(f"<text x='{label_w}' y='12'>solved (dark) of those who tried (light)</text></svg>")
    return "".join(out)
