"""The best measured verdict on a run's speed, for the top of its Run detail: LiteRT on one
thread when the run was exported (what a phone or board runs), else Keras on this CPU; a speedup
named only where every round agreed. Pure Python over a `RunResult`."""

from __future__ import annotations

from dataclasses import dataclass

from prune_core.results.run_result import RunResult
from prune_core.timing import verdict


@dataclass(frozen=True)
class SpeedHeadline:
    """What the headline says: where it was measured (in full and in a few words), the speedup
    (short enough for a metric tile), the verdict in words, the band behind it and a note."""

    label: str
    short_label: str
    value: str  # "1.49×"; "≈ 1×" inside the noise
    verdict: str  # "1.49× faster", "1.25× slower", "as fast as dense"
    band: str | None
    note: str
    moved: bool  # True when the band leaves 1.0× (faster or slower beyond the noise)


def speed_headline(result: RunResult) -> SpeedHeadline | None:
    """LiteRT float32 on one thread when exported, else Keras at batch 1; None when the run was
    never timed against the dense model."""
    deployment = result.deployment
    if deployment is not None and deployment.get("float", "speedup_1t") is not None:
        int8 = deployment.get("int8", "speedup_1t")
        return _headline(
            "speed on LiteRT (float32, 1 thread)",
            "speed · LiteRT",
            deployment.get("float", "speedup_1t"),
            deployment.get("float", "speedup_1t_lo"),
            deployment.get("float", "speedup_1t_hi"),
            "Measured after export with LiteRT, timed in alternation with the dense float32 "
            "model round by round: what a phone or board runs."
            + (f" Quantised to int8 it runs {int8:.2f}× as fast as dense float32." if int8 else ""),
        )
    if result.speedup_b1 is not None:
        return _headline(
            "speed on this CPU (Keras, batch 1)",
            "speed · this CPU",
            result.speedup_b1,
            result.speedup_b1_lo,
            result.speedup_b1_hi,
            f"{result.latency_ms_b1_p50:.2f} ms, timed in alternation with the dense model round "
            "by round on this server's CPU. Export the run to measure LiteRT, what a phone or "
            "board runs.",
        )
    return None


def _headline(label: str, short: str, speedup: float, low, high, note: str) -> SpeedHeadline:
    found = verdict(low, high)
    words = {
        "faster": f"{speedup:.2f}× faster",
        "slower": f"{1 / speedup:.2f}× slower",
    }.get(found, "as fast as dense")
    value = f"{speedup:.2f}×" if found != "within noise" else "≈ 1×"
    band = f"rounds {low:.2f}–{high:.2f}×" if low is not None and high is not None else None
    return SpeedHeadline(label, short, value, words, band, note, found != "within noise")
