"""What the notebooks, the README and docs/ name exists: a renamed file or module leaves no
sentence pointing at nothing."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXTS = sorted([*ROOT.glob("notebooks/week*/*.py"), ROOT / "README.md", *ROOT.glob("docs/*.md")])
PATH = re.compile(r"(?<![\w/.])((?:helpers|docs|notebooks|benchmarks|tests|data|\.ci)/[\w./-]*[\w/])")
MODULE = re.compile(r"(?<![\w.])helpers(?:\.[a-z_0-9]+)+")


def module_found(name: str) -> bool:
    """`name` is a module of the package, or a module's attribute (`helpers.core.items.Item`)."""
    parts = name.split(".")
    for end in range(len(parts), 1, -1):
        try:
            if importlib.util.find_spec(".".join(parts[:end])) is not None:
                return True
        except ModuleNotFoundError:
            continue
    return False


@pytest.mark.parametrize("text", TEXTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_path_a_text_names_exists(text):
    content = text.read_text(encoding="utf-8")
    patterns = ("weekN", "*")  # `notebooks/weekN/dayN_*.ipynb`, `notebooks/week*/*.py`: patterns, not paths
    named = {m[1] for m in PATH.finditer(content) if not any(p in content[m.start() : m.end() + 1] for p in patterns)}
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"{text.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("text", TEXTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_module_a_text_names_exists(text):
    named = {match[0] for match in MODULE.finditer(text.read_text(encoding="utf-8"))}
    missing = sorted(name for name in named if not module_found(name))
    assert not missing, f"{text.name} names modules that do not exist: {missing}"
