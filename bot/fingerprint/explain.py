"""Render an Explanation as text: what was hashed and why each frame was kept or dropped. Pure."""

from __future__ import annotations

from bot.fingerprint.fp1 import Explanation
from bot.fingerprint.inapp import NO_RULES, InAppRules


def render_explanation(insert_id: str, exp: Explanation, in_app: InAppRules = NO_RULES) -> str:
    fp = exp.fingerprint
    lines = [
        f"{insert_id}\t{fp.id}",
        f"  title:    {fp.title}",
        f"  strategy: {fp.version} {exp.strategy}"
        + (f" ({exp.runtime} trace)" if exp.runtime else ""),
    ]
    if in_app:
        lines.append(
            f"  in-app rules of the service: include {list(in_app.include)} "
            f"exclude {list(in_app.exclude)}"
        )
    lines.append("  hashed components:")
    lines += [f"    {name:<11} {value!r}" for name, value in fp.components]
    if exp.frames:
        lines.append("  frames (innermost first, root cause first):")
        for d in exp.frames:
            f = d.frame
            mark = "KEPT   " if d.kept else "dropped"
            where = f"{f.filename}:{f.lineno}" if f.lineno is not None else f.filename
            lines.append(f"    {mark} {f.module} {f.function}  [{where}]  {d.why}")
    lines += [f"  note: {n}" for n in exp.notes]
    return "\n".join(lines)
