"""Build the bundled demo results in demo/ from the project's own measurements.

    .venv/bin/python tools/build_demo.py --measure   # measure them first (about 40 min on 2 cores)
    .venv/bin/python tools/build_demo.py             # pack what bench/out already holds
    .venv/bin/python tools/build_demo.py --measure-profile  # the profile only (about 15 min);
                                                            # demo/runs.jsonl is kept
    # also the Learn page's real 16×16 weight block:
    .venv/bin/python tools/build_demo.py \
        --weights-from .prune/baselines/efficientnet-compact--digits--*.keras

Measured with (the commands --measure runs, as docs/dashboard.md's screenshot commands):
    python -m prune_core sweep --strategies magnitude,taylor,fisher,random \
        --sparsities 0.5,0.8,0.9 \
        --scope global --out bench/out/demo.jsonl
    python -m prune_core sweep --strategies taylor --sparsities 0.3,0.5 --scope global \
        --granularity structured --export tflite --out bench/out/demo_structured.jsonl
    python -m prune_core profile --strategies magnitude,gradient,taylor,fisher,wanda \
        --out bench/out/explore_profile.json
Every result is read back through the same checks as an import; file paths are dropped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
COMMANDS = [
    [
        "sweep",
        "--strategies",
        "magnitude,taylor,fisher,random",
        "--sparsities",
        "0.5,0.8,0.9",
        "--scope",
        "global",
        "--out",
        str(OUT / "demo.jsonl"),
    ],
    [
        "sweep",
        "--strategies",
        "taylor",
        "--sparsities",
        "0.3,0.5",
        "--scope",
        "global",
        "--granularity",
        "structured",
        "--export",
        "tflite",
        "--out",
        str(OUT / "demo_structured.jsonl"),
    ],
    [
        "profile",
        "--strategies",
        "magnitude,gradient,taylor,fisher,wanda",
        "--out",
        str(OUT / "explore_profile.json"),
    ],
]


def main(argv) -> int:
    from prune_core.results import demo
    from prune_core.results.profile import Profile
    from prune_core.results.result_files import read

    profile_only = "--measure-profile" in argv
    if "--measure" in argv or profile_only:
        OUT.mkdir(parents=True, exist_ok=True)
        for command in COMMANDS[-1:] if profile_only else COMMANDS:
            subprocess.run([sys.executable, "-m", "prune_core", *command], check=True, cwd=ROOT)
    results = (
        list(read(demo.RUNS))
        if profile_only
        else [r for name in ("demo.jsonl", "demo_structured.jsonl") for r in read(OUT / name)]
    )
    measured = Profile.from_dict(json.loads((OUT / "explore_profile.json").read_text()))
    demo.DEMO_DIR.mkdir(exist_ok=True)
    if not profile_only:  # kept byte for byte otherwise
        demo.RUNS.write_text(
            "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in results)
        )
    demo.PROFILE.write_text(json.dumps(measured.to_dict(), sort_keys=True) + "\n")
    if "--weights-from" in argv:
        _lesson_weights(Path(argv[argv.index("--weights-from") + 1]))
    print(
        f"demo/: {len(results)} runs ({demo.RUNS.stat().st_size:,} B), a profile of "
        f"{', '.join(measured.criteria)} ({demo.PROFILE.stat().st_size:,} B)"
    )
    return 0


LESSON_LAYER = "block6b_project_conv"


def _lesson_weights(baseline: Path) -> None:
    """A 16×16 block of a real 1×1 convolution of the trained baseline (input × output channels),
    for the Learn page's magnitude and channel pictures (which cannot load a Keras model: no
    TensorFlow)."""
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from prune_core.engine.keras_env import keras
    from prune_core.results.demo import LESSON_WEIGHTS

    model = keras.models.load_model(str(baseline), compile=False)
    kernel = model.get_layer(LESSON_LAYER).get_weights()[0]
    block = kernel[0, 0, :16, :16].astype(float)
    LESSON_WEIGHTS.write_text(
        json.dumps(
            {
                "layer": LESSON_LAYER,
                "model": baseline.name,
                "weights": [[round(v, 6) for v in row] for row in block.tolist()],
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
