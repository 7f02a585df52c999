"""The house rules, read from the source with `ast`: imports run one way between the layers, without
circles, and our own code is imported inside a function only at the TensorFlow door."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Layers, lowest first: a module may import its own layer and the ones below, never one above.
LAYERS = [
    {
        "prune_core.errors",
        "prune_core.paths",
        "prune_core.progress",
        "prune_core.timing",
        "prune_core.summaries",
        "prune_core.measured",
        "prune_core.units",
    },
    {"prune_core.recipe", "prune_core.data"},
    {"prune_core.results"},
    {"prune_core.serving", "prune_core.learn"},
    {"prune_core.engine"},
    {"prune_core.jobs"},
    {"prune_core.cli", "prune_core.__main__", "ui"},
    {"app_pages", "app"},
]
#: Siblings of one layer that must not import each other.
APART = [("prune_core.recipe", "prune_core.data"), ("prune_core.serving", "prune_core.learn")]
#: The only modules that may import our own code inside a function: the doors to TensorFlow, which
#: the dashboard's process must never go through.
TF_DOORS = {"prune_core.jobs.body", "prune_core.cli", "prune_core.cli.commands", "prune_core"}
#: The package's `prune` (the Python API for notebooks) opens the engine only when it is called:
#: `import prune_core` stays cheap and free of TensorFlow.
PACKAGE_DOOR = ("prune_core", "prune_core.engine.notebook")


def _modules() -> dict[str, Path]:
    files = [
        *ROOT.glob("prune_core/**/*.py"),
        *ROOT.glob("ui/**/*.py"),
        *ROOT.glob("app_pages/*.py"),
        ROOT / "app.py",
    ]
    out = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _own(name: str) -> str | None:
    """The module of ours that `name` (an imported dotted name) refers to, or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list[tuple[str, bool, int]]:
    """(our module imported, inside a function?, line) for every import in `module`."""
    tree = ast.parse(MODULES[module].read_text())
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            names = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [f"{child.module}.{a.name}" for a in child.names]
            for name in names:
                own = _own(name)
                if own and own != module:
                    found.append((own, in_function, child.lineno))
            visit(child, inner)

    visit(tree, False)
    return found


def _layer(module: str) -> int:
    if module == "prune_core":  # the package's own __init__: the errors, and `prune`'s door
        return 0
    for index, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _package(module: str) -> str:
    for layer in LAYERS:
        for top in layer:
            if module == top or module.startswith(top + "."):
                return top
    return module


def test_imports_run_one_way():
    upward = [
        f"{m}:{line} imports {own} (a layer above)"
        for m in MODULES
        for own, in_function, line in _imports(m)
        if _layer(own) > _layer(m) and not ((m, own) == PACKAGE_DOOR and in_function)
    ]
    apart = [
        f"{m}:{line} imports {own}"
        for m in MODULES
        for own, _, line in _imports(m)
        if tuple(sorted((_package(m), _package(own)))) in {tuple(sorted(p)) for p in APART}
    ]
    assert not upward + apart, "\n".join(upward + apart)


def test_no_import_circles():
    graph = {m: {own for own, _, _ in _imports(m)} for m in MODULES}
    circles, state = [], {}

    def walk(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(" → ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = "done"

    for module in sorted(MODULES):
        if module not in state:
            walk(module, [module])
    assert not circles, "\n".join(circles)


def test_own_code_is_imported_inside_a_function_only_at_the_tensorflow_door():
    hidden = [
        f"{m}:{line} imports {own}"
        for m in MODULES
        if m not in TF_DOORS
        for own, in_function, line in _imports(m)
        if in_function
    ]
    assert not hidden, "\n".join(hidden)


def test_the_streamlit_side_never_reaches_the_engine():
    reach = [
        f"{m}:{line} imports {own}"
        for m in MODULES
        if _layer(m) >= _layer("ui") and m != "prune_core.cli" and not m.startswith("prune_core")
        for own, _, line in _imports(m)
        if own.startswith("prune_core.engine") or own.startswith("prune_core.jobs.body")
    ]
    assert not reach, "\n".join(reach)
