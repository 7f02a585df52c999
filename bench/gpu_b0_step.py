"""EfficientNet-B0@224 training-step time on a GPU, for the README's cluster estimate.

TensorFlow is not installed on the lent GPU machine, so this times torchvision's EfficientNet-B0
(the same architecture) in PyTorch as a proxy for one fine-tune step: batch 32 and 128, fp32 and
bf16 autocast.

    python3 bench/gpu_b0_step.py [--no-write]

Writes its section (gpu-b0-step) into docs/benchmarks/ray.md."""

import argparse
import sys
import time
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Report  # noqa: E402


def main() -> None:
    device = "cuda"
    gpu = f"{torch.cuda.get_device_name()}, PyTorch {torch.__version__}"
    # ray.md keeps its title
    _, report = Report.parse_args(argparse.ArgumentParser(), "ray", device=gpu)
    model = (
        torchvision.models.efficientnet_b0(num_classes=10)
        .to(device)
        .to(memory_format=torch.channels_last)
    )
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    rows = []
    for batch in (32, 128):
        x = torch.randn(batch, 3, 224, 224, device=device).to(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,), device=device)
        for precision in ("fp32", "bf16"):

            def step(x=x, y=y, precision=precision):
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()

            for _ in range(5):
                step()
            torch.cuda.synchronize()
            times = []
            for _ in range(20):
                start = time.perf_counter()
                step()
                torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            ms = sorted(times)[10] * 1000
            rows.append([batch, precision, f"{ms:.1f}", f"{batch / ms * 1000:,.0f}"])
            print(f"  batch {batch} {precision}: {ms:.1f} ms", flush=True)
    report.section("gpu-b0-step")
    report.heading(f"EfficientNet-B0@224 training step (torchvision) on {gpu}")
    report.table(["batch", "precision", "ms per step (median of 20)", "images/s"], rows)
    report.save()


if __name__ == "__main__":
    main()
