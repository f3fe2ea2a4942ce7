"""Keep the cells that have their source elsewhere in step: `python notebooks/sync.py` rewrites
them in both twins of every notebook, `python notebooks/sync.py --check` only says which are out
of step (exit status 1); a test runs the check in CI.

Three kinds of cell have one source elsewhere:
- the Colab badge in the first cell, and the set-up cell (the second), in every notebook alike:
  written from `SETUP` below and `helpers.notebook`'s `REPO`, `colab_url` and `repo_line`, the
  text that `python -m helpers fork` rewrites;
- a code cell whose first line is `# as in helpers.MODULE: name, name`: the source of those
  functions or classes, verbatim. The notebook runs its own copy (edit it, and what the notebook
  scores changes), and the command line runs the same code from helpers;
- nothing else: the notebook's own plain versions of what helpers does faster (one item at a time
  where helpers batches) are not copies. Each notebook checks those against helpers' with
  `helpers.notebook.agree`, and the test of the course's run asserts they agree.

Edit the helper, not the copy, then run this script and commit both twins.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's helpers, also when run from elsewhere

from helpers.notebook import REPO, colab_url, repo_line  # noqa: E402

COPY = re.compile(r"^# as in (helpers(?:\.\w+)+): (\w+(?:, \w+)*)$")
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+")
SETUP = """\
# Setup. In Colab: fetch the repository and install it (a minute or two), showing what each step
# prints. Locally: nothing to do, the README's `bash .ci/setup` (or `pip install -e .`) did it.
import subprocess
import sys
from pathlib import Path

{repo_line}  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
CLONE = Path("/content/pricer")  # where Colab keeps the repository


class SetupFailed(Exception):
    def _render_traceback_(self):  # shown as this one line, not as a traceback
        return [f"error: {{self}}"]


def run_setup_step(name: str, command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
    if process.wait():
        raise SetupFailed(f"the {{name}} failed (exit status {{process.returncode}}): its output is above")


if COLAB:
    if not (CLONE / ".git").exists():
        run_setup_step("clone", ["git", "clone", "--depth", "1", f"https://github.com/{{REPO}}", str(CLONE)])
    if not (CLONE / ".installed").exists():
        run_setup_step("install", [sys.executable, "-m", "pip", "install", "-e", str(CLONE)])
        (CLONE / ".installed").touch()
    sys.path.insert(0, str(CLONE))

from helpers.notebook import setup

# smoke mode (PRICER_SMOKE=1): offline, on the bundled sample; `store` keeps what outlives this machine
SMOKE, store = setup(STORE if COLAB else None)"""


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook's percent-script twin, in course order."""
    return sorted(root.glob("notebooks/week*/*.py"))


def badge_url(script: Path, repo: str = REPO) -> str:
    return colab_url(repo, f"{script.parent.name}/{script.with_suffix('.ipynb').name}")


def copied(marker: str) -> str:
    """A copy cell's source: its marker line, then the named objects' source, verbatim."""
    found = COPY.match(marker)
    module = importlib.import_module(found[1])
    sources = [textwrap.dedent(inspect.getsource(getattr(module, name))).rstrip() for name in found[2].split(", ")]
    return marker + "\n" + "\n\n\n".join(sources)


def in_step(notebook, url: str) -> list[str]:
    """Bring the notebook's badge (to `url`), set-up and copied cells in step, in place; returns
    what changed."""
    changed = []
    first, second = notebook.cells[0], notebook.cells[1]
    badge = BADGE.sub(url, first.source)
    if badge != first.source:
        first.source, changed = badge, [*changed, "the Colab badge"]
    setup = SETUP.format(repo_line=repo_line(REPO))
    if second.source != setup:
        second.source, changed = setup, [*changed, "the set-up cell"]
    for cell in notebook.cells[2:]:
        marker = cell.source.split("\n", 1)[0]
        if cell.cell_type == "code" and COPY.match(marker):
            source = copied(marker)
            if cell.source != source:
                cell.source, changed = source, [*changed, marker.removeprefix("# ")]
    return changed


def sync(script: Path, write: bool) -> list[str]:
    """Check (and with `write`, rewrite) one notebook's twins; returns what was out of step."""
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    notebook = jupytext.read(script)
    twin = script.with_suffix(".ipynb")
    sources = [(cell.cell_type, cell.source) for cell in jupytext.read(twin).cells]
    if (
        sources != [(cell.cell_type, cell.source) for cell in notebook.cells]
        and twin.stat().st_mtime > script.stat().st_mtime
    ):
        raise SystemExit(f"{twin} holds edits that {script.name} lacks: run `jupytext --sync {script}` first")
    changed = in_step(notebook, badge_url(script))
    text = formatted(jupytext.writes(notebook, fmt="py:percent"), script)
    text = same_version(text, script.read_text(encoding="utf-8"))
    notebook = jupytext.reads(text, fmt="py:percent")  # as formatted: the twin keeps its blank lines
    if text != script.read_text(encoding="utf-8"):
        changed = changed or ["the percent script's layout"]
    paired = combine_inputs_with_outputs(notebook, jupytext.read(twin), fmt="ipynb")
    twin_text = jupytext.writes(paired, fmt="ipynb") + "\n"  # as jupytext --sync writes it
    if twin_text != twin.read_text(encoding="utf-8"):
        changed = changed or ["the .ipynb twin"]
    if write and changed:
        script.write_text(text, encoding="utf-8")
        twin.write_text(twin_text, encoding="utf-8")
    return changed


VERSION = re.compile(r"^# +jupytext_version: .*$", re.M)


def same_version(text: str, recorded: str) -> str:
    """Keep the jupytext version the script records: a newer jupytext writes the same cells."""
    found = VERSION.search(recorded)
    return VERSION.sub(lambda _: found.group(0), text, count=1) if found else text


def formatted(text: str, script: Path) -> str:
    """The percent script as `ruff format` leaves it: jupytext puts one blank line before a cell
    that starts with a comment and a function, where ruff wants two."""
    config = ["--config", str(ROOT / "pyproject.toml")]  # the project's settings, wherever the script is
    command = [sys.executable, "-m", "ruff", "format", "--quiet", *config, "--stdin-filename", str(script), "-"]
    return subprocess.run(command, input=text, capture_output=True, text=True, check=True, cwd=ROOT).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what is out of step (exit status 1)")
    args = parser.parse_args()
    stale = {script: sync(script, write=not args.check) for script in notebooks()}
    for script, changed in stale.items():
        if changed:
            verb = "out of step" if args.check else "rewritten"
            print(f"{script.relative_to(ROOT)}: {verb}: {'; '.join(changed)}")
    if args.check and any(stale.values()):
        print("run `python notebooks/sync.py`, then commit both twins", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
