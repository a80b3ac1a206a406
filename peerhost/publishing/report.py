"""Human-readable output of a publish."""

from __future__ import annotations

from peerhost.publishing.publisher import PublishReport


def format_report(report: PublishReport) -> list[str]:
    """One line per function (what happened, version, CID) followed by its live URL."""
    lines = [f"Project '{report.project}' of {report.owner}:"]
    width = max(len(f.name) for f in report.functions)
    for fn in report.functions:
        state = f"{fn.action} v{fn.version}"
        if fn.changed:
            state += f" ({fn.reason})"
        flags = "  [DISABLED: requests get 410]" if fn.disabled else ""
        lines.append(
            f"  {fn.name:<{width}}  {fn.runtime:<4}  {fn.mode:<8}  {state}  {fn.cid}{flags}"
        )
        lines.append(f"  {'':<{width}}  -> {fn.url}")
    changed = len(report.changed)
    lines.append(
        f"{changed} of {len(report.functions)} function(s) published"
        if changed
        else "Nothing to publish: every function is up to date."
    )
    return lines
