"""Tests for prune_core.cli: run, sweep, profile, import; bad input is one line."""

import json
import os
import re
import subprocess
import sys

import pytest

from prune_core import cli
from prune_core.progress import ProgressPrinter
from tests.conftest import ROOT, SCHEMA_1

TINY_ARGS = [
    "--model",
    "tiny-cnn",
    "--dataset",
    "synthetic",
    "--image-size",
    "16",
    "--baseline-epochs",
    "4",
    "--fine-tune-epochs",
    "1",
    "--batch-size",
    "16",
    "--calibration-examples",
    "16",
]
REQUIRED = {
    "schema",
    "model",
    "dataset",
    "strategy",
    "granularity",
    "target",
    "unit",
    "weight_sparsity",
    "top1_before_finetune",
    "top1",
    "top5",
    "params",
    "nonzero_params",
    "flops",
    "nonzero_flops",
    "file_bytes",
    "gzip_bytes",
    "latency_ms_b1_p50",
    "latency_ms_b32_p50",
    "throughput_ips",
    "finetune_seconds",
    "config",
}


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "prune_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=600,
    )


def test_run_end_to_end_prints_a_short_summary_and_json_where_asked(tmp_path):
    out = tmp_path / "run.jsonl"
    proc = _cli("run", *TINY_ARGS, "--strategy", "fisher", "--sparsity", "0.75", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    # a person reads a few lines; the whole result goes to --out
    summary = proc.stdout.strip().splitlines()
    assert len(summary) <= 4 and len(proc.stdout) < 600
    assert summary[0].startswith("fisher s=0.75 global") and "top-1 " in summary[1]
    assert "weight sparsity 75.0%" in summary[2] and " kB" in summary[2]
    (line,) = out.read_text().splitlines()
    result = json.loads(line)
    assert REQUIRED <= set(result)
    assert result["strategy"] == "fisher" and result["weight_sparsity"] == pytest.approx(
        0.75, abs=0.005
    )
    assert result["config"]["calibration_examples"] == 16
    assert result["config"]["scope"] == "global"  # the best measured ranking by default
    assert "fine-tuning" in proc.stderr and "done in" in proc.stderr


def test_the_command_lines_defaults_are_the_dashboards_best_measured_recipe():
    from prune_core import cli
    from prune_core.measured import BEST_SCOPE, BEST_STRATEGY, DEFAULT_SPARSITIES
    from prune_core.recipe.spec import RunSpec
    from ui.forms import EXPERIMENT_FORM

    (run,) = cli.specs_from_args(cli.build_parser().parse_args(["run"]))
    assert (run.pruning.strategy, run.pruning.scope) == (BEST_STRATEGY, BEST_SCOPE)
    assert [BEST_STRATEGY] == EXPERIMENT_FORM["strategies"] and BEST_SCOPE == EXPERIMENT_FORM[
        "scope"
    ]
    assert run.training.fine_tune_epochs == EXPERIMENT_FORM["fine_tune_epochs"]
    sweep = cli.specs_from_args(cli.build_parser().parse_args(["sweep"]))
    assert [s.pruning.sparsity for s in sweep] == list(DEFAULT_SPARSITIES)
    assert EXPERIMENT_FORM["sparsities"] == "50%, 80%"
    # a recipe on the library's defaults still reproduces: its command names its ranking
    layerwise = RunSpec.of(strategy="magnitude")
    assert "--scope layerwise" in layerwise.command()
    again = cli.specs_from_args(cli.build_parser().parse_args(layerwise.command().split()[3:]))
    assert again == [layerwise]


def test_sweep_runs_the_product_of_strategies_and_sparsities(tmp_path):
    out = tmp_path / "sweep.jsonl"
    code = cli.main(
        [
            "sweep",
            *TINY_ARGS,
            "--strategies",
            "magnitude,random",
            "--sparsities",
            "0.3,0.6",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["strategy"], r["target"]) for r in rows] == [
        ("magnitude", 0.3),
        ("magnitude", 0.6),
        ("random", 0.3),
        ("random", 0.6),
    ]
    assert all(abs(r["weight_sparsity"] - r["target"]) <= 0.005 for r in rows)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "--sparsity", "1.2"], "sparsity must be in [0, 1)"),
        (["run", "--strategy", "hessian"], "invalid choice"),
        (["sweep", "--strategies", "magnitude,nope"], "unknown strategy 'nope'"),
        (["sweep", "--sparsities", "0.5,abc"], "comma-separated numbers"),
        (["run", "--sparsity", "0.5", "--threshold", "0.1"], "not allowed with"),
        (["run", "--model", "file:/nonexistent/model.keras"], "does not exist"),
        (["run", "--dataset", "folder:/nonexistent/images"], "does not exist"),
        (
            [
                "run",
                "--schedule",
                "polynomial",
                "--initial-sparsity",
                "0.5",
                "--sparsity",
                "0.8",
                "--begin-step",
                "1000",
                "--end-step",
                "2000",
            ],
            "--fine-tune-epochs to 50",
        ),
        (["run", "--save-model", "out.txt"], "--save-model must end in"),
        (["frobnicate"], "invalid choice"),
        (["run", "--save-model", "/nonexistent/dir/m.keras"], "cannot write into"),
        (["import", "/nonexistent/results.jsonl"], "no such file"),
        (["run", "--out", "/nonexistent/dir/o.jsonl"], "--out /nonexistent/dir/o.jsonl"),
        (["run", "--scope", "auto", "--threshold", "0.1"], "needs a target sparsity"),
        (
            ["run", "--scope", "auto", "--granularity", "structured", "--threshold", "0.1"],
            "needs a target sparsity",
        ),
        (
            ["run", "--pattern", "2:4", "--granularity", "structured"],
            "structured pruning removes whole channels",
        ),
        (["run", "--pattern", "2x4"], "unknown pattern '2x4'"),
        (["run", "--pattern", "2:4", "--sparsity", "0.8"], "set the sparsity to 0.5"),
        (["run", "--regrow", "rigl", "--schedule", "constant"], "use the one-shot schedule"),
        (
            ["run", "--regrow", "rigl", "--regrow-fraction", "1.5"],
            "regrow fraction must be in (0, 1)",
        ),
        (["profile", "--levels", "0.5,1.0"], "--levels must lie in [0, 1): got 1"),
        (["profile", "--levels", "0.5,0.5"], "--levels: 0.5 is given twice"),
        (
            ["profile", "--levels", ",".join(str(i / 100) for i in range(41))],
            "--levels: at most 40 levels",
        ),
        (["profile", "--layer-levels", "-0.1"], "--layer-levels must lie in [0, 1)"),
        (["profile", "--strategies", "taylor,tfmot"], "cannot profile 'tfmot'"),
        (["profile", "--strategies", "taylor,taylor"], "named twice"),
        (["profile", "--out", "/nonexistent/dir/p.json"], "cannot write into"),
        (
            ["run", "--model", "file:/any/model.keras", "--baseline-epochs", "5"],
            "a model file is used as it was trained",
        ),
        (
            ["run", "--model", "file:/any/model.keras", "--image-size", "64"],
            "a model file fixes its own input size",
        ),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(args, fragment, capsys):
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err


def test_bad_input_from_the_shell_is_one_clean_line():
    proc = _cli("run", "--sparsity", "2")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["error: sparsity must be in [0, 1), got 2.0"]


def test_lambda_model_is_refused_from_the_cli(tmp_path):
    from prune_core.engine.keras_env import keras

    inp = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Lambda(lambda t: t + 1.0)(inp))
    path = tmp_path / "lam.keras"
    keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x)).save(str(path))
    proc = _cli("run", "--model", f"file:{path}", "--dataset", "synthetic")
    assert (
        proc.returncode == 2
        and "Lambda layer" in proc.stderr
        and len(proc.stderr.strip().splitlines()) == 1
    )


def test_import_adds_results_as_completed_runs_and_refuses_bad_files(tmp_path, monkeypatch, capsys):
    from prune_core.jobs.store import JobStore

    monkeypatch.setenv("PRUNE_HOME", str(tmp_path / "home"))
    good = tmp_path / "sweep.jsonl"
    # written before RunResult existed
    old = [json.loads(line) for line in SCHEMA_1.read_text().splitlines()]
    good.write_text("\n".join(json.dumps(r) for r in old) + "\n")
    bad = tmp_path / "bad.jsonl"
    wrong = {**old[0], "top1": "ninety"}
    bad.write_text(json.dumps(old[1]) + "\n" + json.dumps(wrong) + "\n")
    assert cli.main(["import", str(good), str(bad)]) == 2
    assert (
        "bad.jsonl:2: not a run result (missing or not a number: top1)" in capsys.readouterr().err
    )
    assert JobStore().list() == []  # nothing written
    assert cli.main(["import", str(good)]) == 0
    jobs = JobStore().list()
    assert [j.status for j in jobs] == ["completed"] * 5 and {j.sweep for j in jobs} == {"sweep"}
    assert sorted(j.run_result.achieved for j in jobs) == sorted(
        r["achieved_sparsity"] for r in old
    )
    assert all(j.result["schema"] == 2 for j in jobs)  # stored in the current schema
    # paths in an imported file name files elsewhere: they are dropped, never served
    hostile = tmp_path / "paths.jsonl"
    hostile.write_text(
        json.dumps(
            {
                **old[0],
                "model_path": "/etc/passwd",
                "export_dir": "/etc",
                "tflite_float_bytes": 10,
                "tflite_float_gzip_bytes": 5,
            }
        )
        + "\n"
    )
    nan = tmp_path / "nan.jsonl"
    nan.write_text(json.dumps({**old[0], "top1": float("nan")}) + "\n")
    assert cli.main(["import", str(nan)]) == 2
    assert (
        "nan.jsonl:1: not a run result (top1 must be a finite number, got nan)"
        in capsys.readouterr().err
    )
    assert cli.main(["import", str(hostile)]) == 0
    imported = JobStore().list()[0].run_result
    assert imported.model_path is None and imported.deployment.export_dir is None
    assert imported.deployment.get("float", "bytes") == 10


def test_export_tflite_adds_deployment_fields():
    proc = _cli("run", *TINY_ARGS, "--sparsity", "0.8", "--export", "tflite", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    fields = {
        "tflite_float_bytes",
        "tflite_sparse_bytes",
        "tflite_int8_bytes",
        "tflite_int8_gzip_bytes",
        "tflite_int8_top1",
        "litert_ms_b1_p50",
        "litert_int8_ms_b1_p50",
        "h5_gzip_bytes",
    }
    assert fields <= set(result)
    assert result["tflite_float_agreement"] >= 0.99
    assert result["tflite_int8_bytes"] < result["tflite_float_bytes"]
    assert 0 < result["litert_ms_b1_p50"] <= result["litert_ms_b1_p90"]


def test_every_recipe_field_is_a_command_line_option_with_help():
    from prune_core.recipe.spec import FIELDS

    for command, amount in (
        ("run", {"strategy", "sparsity", "threshold"}),
        ("sweep", {"strategies", "sparsities", "thresholds"}),
    ):
        sub = next(a for a in cli.build_parser()._actions if a.dest == "command").choices[command]
        options = {a.dest: a for a in sub._actions}
        for f in FIELDS:
            name = (
                f.name
                if command == "run" or f.name not in ("strategy", "sparsity", "threshold")
                else None
            )
            if name:
                assert name in options and options[name].help, f.name
        assert amount <= set(options)


def test_an_nm_pattern_sets_the_cli_sparsity_and_the_sweep_default():
    run = cli.build_parser().parse_args(["run", "--pattern", "1:4"])
    assert [s.pruning.sparsity for s in cli.specs_from_args(run)] == [0.25]
    sweep = cli.build_parser().parse_args(
        ["sweep", "--pattern", "2:4", "--strategies", "magnitude,taylor"]
    )
    assert [
        (s.pruning.strategy, s.pruning.sparsity, s.pruning.pattern)
        for s in cli.specs_from_args(sweep)
    ] == [("magnitude", 0.5, "2:4"), ("taylor", 0.5, "2:4")]
    rigl = cli.build_parser().parse_args(
        ["run", "--regrow", "rigl", "--regrow-every", "20", "--sparsity", "0.9"]
    )
    assert cli.specs_from_args(rigl)[0].pruning.regrow_every == 20


def test_profile_prints_one_json_object_and_a_summary(tmp_path):
    from prune_core.results.profile import Profile

    out = tmp_path / "profile.json"
    proc = _cli(
        "profile",
        *[a for a in TINY_ARGS if a not in ("--fine-tune-epochs", "1")],
        "--strategies",
        "magnitude",
        "--levels",
        "0,0.5,0.9",
        "--layer-levels",
        "0.5,0.9",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    measured = Profile.from_dict(json.loads(out.read_text()))
    assert list(measured.criteria) == ["magnitude"] and measured.levels == (0.0, 0.5, 0.9)
    assert "top-1 before fine-tuning at 80 %" in proc.stderr and proc.stdout == ""


def test_profile_of_a_model_with_nothing_prunable_is_one_line(tmp_path):
    from prune_core.engine.keras_env import keras

    inputs = keras.Input((16, 16, 3))
    head = keras.layers.Dense(3, activation="softmax", name="predictions")(
        keras.layers.Flatten()(inputs)
    )
    keras.Model(inputs, head).save(tmp_path / "head.keras")
    proc = _cli("profile", "--model", f"file:{tmp_path / 'head.keras'}", "--dataset", "synthetic")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: the model has no Conv2D or Dense kernel that this recipe may prune"
    ]


def test_progress_in_a_log_file_is_a_line_per_phase_and_one_every_10_s_in_a_long_phase(monkeypatch):
    import io

    from prune_core.progress import Progress

    clock = {"now": 100.0}
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock["now"])
    stream = io.StringIO()
    printer = ProgressPrinter("p", stream=stream)
    for second in range(0, 25):
        clock["now"] = 100.0 + second
        printer(Progress("profiling", step=second, steps=25, message=f"layer {second}"))
    printer(Progress("measuring"))
    lines = stream.getvalue().splitlines()
    assert [line.split(" · ")[-1] for line in lines] == [
        "layer 0",
        "layer 10",
        "layer 20",
        "[p] measuring",
    ]


def test_help_lists_the_public_commands_and_hides_the_internal_one(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    assert "SUPPRESS" not in shown and "{run,sweep,profile,worker,inspect,import,users}" in shown
    assert not any(line.split()[:1] == ["job"] for line in shown.splitlines())
    listed = shown.split("positional arguments:")[1].split("options:")[0]
    # every command listed below the usage line is named in it, and no other
    named = [line.split()[0] for line in listed.splitlines() if re.match(r"^ {4}\S", line)]
    assert named == list(cli.PUBLIC_COMMANDS)
    # the description is a whole sentence, not a docstring's first line cut short
    described = " ".join(shown.split("\n\n")[1].split())
    assert described.startswith("Prune Keras models") and described.endswith("accounts.")


def test_a_combined_recipe_takes_its_weight_share_from_the_command_line():
    parser = cli.build_parser()
    args = ["run", "--granularity", "structured", "--scope", "global", "--then-sparsity"]
    (spec,) = cli.specs_from_args(parser.parse_args([*args, "0.87"]))
    assert (spec.pruning.sparsity, spec.pruning.then_sparsity) == (0.5, 0.87)
    # an N:M pattern pins the weight stage, not the channel cut
    (spec,) = cli.specs_from_args(parser.parse_args([*args, "0.25", "--pattern", "1:4"]))
    assert (spec.pruning.sparsity, spec.pruning.then_sparsity) == (0.5, 0.25)
    (alone,) = cli.specs_from_args(parser.parse_args(["run", "--pattern", "1:4"]))
    assert alone.pruning.sparsity == 0.25


@pytest.mark.parametrize(
    "change, words",
    [
        ({"top1": 42.0}, "top1 must be in [0, 1], got 42.0"),
        ({"gzip_bytes": -5}, "gzip_bytes must be at least 0"),
        ({"latency_ms_b1_p50": -1.0}, "latency_ms_b1_p50 must be at least 0"),
        ({"params": 10**18}, "params must be at least 0 and below 1e+15"),
    ],
)
def test_an_import_refuses_numbers_out_of_their_range(tmp_path, monkeypatch, capsys, change, words):
    from prune_core.jobs.store import JobStore

    monkeypatch.setenv("PRUNE_HOME", str(tmp_path / "home"))
    old = json.loads(SCHEMA_1.read_text().splitlines()[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**old, **change}) + "\n")
    assert cli.main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert JobStore().list() == []


def test_an_import_is_streamed_with_a_line_and_a_count_limit(tmp_path, monkeypatch, capsys):
    from prune_core.jobs.store import JobStore

    monkeypatch.setenv("PRUNE_HOME", str(tmp_path / "home"))
    from prune_core.results import result_files

    monkeypatch.setattr(result_files, "MAX_LINES", 3)
    monkeypatch.setattr(result_files, "MAX_LINE_BYTES", 50_000)
    line = SCHEMA_1.read_text().splitlines()[0]
    many = tmp_path / "many.jsonl"
    many.write_text((line + "\n") * 4)
    assert cli.main(["import", str(many)]) == 2
    assert "many.jsonl:4: an import holds at most 3 results" in capsys.readouterr().err
    huge = tmp_path / "huge.jsonl"
    huge.write_text('{"pad": "' + "x" * 200_000 + '"}\n')
    assert cli.main(["import", str(huge)]) == 2
    assert "huge.jsonl:1: a line over" in capsys.readouterr().err
    assert JobStore().list() == []


def test_inspect_checks_a_file_or_a_folder_as_the_dashboard_will(tmp_path, capsys):
    from PIL import Image

    from prune_core.engine import models

    model = models.save(models.build("tiny-cnn", 3, 16), tmp_path / "tiny.keras")
    assert cli.main(["inspect", str(model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Model: ") and "input 16×16×3 · 3 outputs" in out
    folder = tmp_path / "pets"
    for c in range(2):
        (folder / f"k{c}").mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (20, 20), (c * 90, 30, i * 30)).save(folder / f"k{c}" / f"{i}.png")
    assert cli.main(["inspect", str(folder)]) == 0
    assert (
        "Images: 2 classes · 12 images · 6–6 per class · smallest 20×20" in capsys.readouterr().out
    )
    (folder / "k1" / "5.png").write_bytes(b"not an image")
    assert cli.main(["inspect", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == "error: k1/5.png is not a readable image (UnidentifiedImageError)\n"
    junk = tmp_path / "junk.keras"
    junk.write_text("not a model")
    assert cli.main(["inspect", str(junk)]) == 2
    assert "not a Keras model file" in capsys.readouterr().err


def test_an_unexpected_failure_is_one_line_exit_1_and_its_traceback_is_kept(
    tmp_path, monkeypatch, capsys
):
    """A defect inside a run (not bad input) still ends in one `error:` line, never a traceback on
    the terminal; the traceback goes to a file the line names."""
    from prune_core.engine import pipeline

    def crash(*args, **kwargs):
        raise TypeError("Exception encountered when calling layer 'add'.\n\n• name=None")

    monkeypatch.setenv("PRUNE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PRUNE_DEBUG", raising=False)
    monkeypatch.setattr(pipeline, "run", crash)
    code = cli.main(["run", "--dataset=synthetic", "--sparsity=0.5", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == cli.EXIT_FAILED == 1
    assert len(err) == 1 and err[0].startswith("error: TypeError: Exception encountered"), err
    assert "name=None" not in err[0] and "Traceback" not in err[0]
    kept = list((tmp_path / "home" / "logs").glob("cli-*.traceback.txt"))
    assert len(kept) == 1 and str(kept[0]) in err[0]
    assert "name=None" in kept[0].read_text() and "Traceback" in kept[0].read_text()
