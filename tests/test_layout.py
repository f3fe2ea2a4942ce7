"""The package's shape: modules import each other in one direction only, and only heavy
third-party libraries are imported inside functions (so that `import helpers.core.items` is fast
and never touches torch or the network)."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "helpers"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def own_imports(path: Path) -> list[tuple[ast.ImportFrom | ast.Import, str]]:
    """(statement, module) for every import of one of the package's modules in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            for alias in node.names:  # `from helpers.data import charts` names a module
                name = f"{node.module}.{alias.name}"
                found.append((node, name if name in MODULES else node.module))
        elif isinstance(node, ast.Import):
            found += [(node, alias.name) for alias in node.names if alias.name.split(".")[0] == "helpers"]
    return found


def test_the_package_imports_its_own_modules_at_the_top_only():
    inside = [
        f"{name}:{node.lineno} {node.module if isinstance(node, ast.ImportFrom) else ''}"
        for name, path in MODULES.items()
        for node, _ in own_imports(path)
        if node.col_offset > 0
    ]
    assert inside == []


def test_no_module_imports_itself_round_a_cycle():
    graph = {name: {target for _, target in own_imports(path) if target != name} for name, path in MODULES.items()}
    done, path = set(), []

    def visit(name: str) -> None:
        if name in path:
            raise AssertionError(f"import cycle: {' -> '.join(path[path.index(name) :] + [name])}")
        if name in done:
            return
        path.append(name)
        for target in sorted(graph.get(name, ())):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_the_core_and_the_command_lines_help_load_no_heavy_library():
    heavy = ["torch", "transformers", "sklearn", "datasets", "pandas", "trl", "peft", "openai", "matplotlib"]
    probe = (
        "import sys, helpers.core.items, helpers.core.tester, helpers.core.leaderboard, helpers.__main__ as cli\n"
        f"print(sorted(name for name in {heavy!r} if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# The rooms, and the rooms each may import from: arrows point down only. The core knows nothing
# of the stages above it; the classical models and the language models know nothing of each
# other; week 8 builds on both; the command line and the notebooks' helpers sit on top.
BELOW = {
    "plumbing": set(),
    "core": {"plumbing"},
    "presets": {"core", "plumbing"},
    "data": {"core", "plumbing", "presets"},
    "classical": {"core", "plumbing", "presets", "data"},
    "language": {"core", "plumbing", "presets", "data"},
    "offline": {"core", "plumbing", "presets", "data"},
    "week8": {"core", "plumbing", "presets", "data", "classical", "language", "offline"},
    "notebook": {"core", "plumbing", "presets", "data", "classical", "language", "offline", "week8"},
    "cli": {"core", "plumbing", "presets", "data", "classical", "language", "offline", "week8", "notebook"},
    "__main__": {"cli"},
}


def room(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_every_module_lives_in_a_known_room():
    assert {room(name) for name in MODULES if name != "helpers"} == set(BELOW)


def test_rooms_import_only_the_rooms_below_them():
    upward = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name != "helpers"
        for _, target in own_imports(path)
        if room(target) != room(name) and room(target) not in BELOW[room(name)]
    )
    assert upward == []


def test_the_core_imports_nothing_of_the_project_but_itself_and_the_plumbing():
    core = {name: path for name, path in MODULES.items() if room(name) == "core"}
    outside = {target for path in core.values() for _, target in own_imports(path)} - set(core)
    assert outside and all(room(target) == "plumbing" for target in outside)
