"""What the notebooks share: `agree`, which sets a notebook's own version beside helpers'."""

import pytest

from helpers.notebook import agree


def said(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_the_same_values_agree_in_one_line(capsys):
    agree("prices", [1.0, None, 3.5], [1.0, None, 3.5])
    assert said(capsys) == "agree: prices: the same on all 3"


def test_prices_a_batch_adds_up_in_another_order_still_agree(capsys):
    agree("prices", [99.999, 120.0], [100.0, 120.0001])
    assert said(capsys) == "agree: prices: the same on all 2"


def test_a_difference_is_counted_and_the_first_one_shown(capsys):
    agree("prices", [1.0, 2.0, 3.0], [1.0, 2.5, 4.0])
    assert said(capsys) == "differ: prices: 2 of 3 differ; the first, #2: 2.0 here, 2.5 in helpers"


def test_a_missing_answer_is_not_the_same_as_zero(capsys):
    agree("prices", [None], [0.0])
    assert said(capsys).startswith("differ: prices: 1 of 1 differ")


def test_nested_values_are_compared_item_by_item(capsys):
    agree("neighbours", [[("kettle", 24.5, 0.91234)]], [[("kettle", 24.5, 0.9124)]])
    assert said(capsys) == "agree: neighbours: the same"
    agree("neighbours", [[("kettle", 24.5, 0.9)]], [[("teapot", 24.5, 0.9)]])
    assert said(capsys).startswith("differ: neighbours: 1 of 1 differ")


def test_configs_are_compared_by_their_fields_and_the_first_difference_named(capsys):
    from peft import LoraConfig

    agree("LoraConfig", [LoraConfig(r=32, lora_alpha=64)], [LoraConfig(r=32, lora_alpha=64)])
    assert said(capsys) == "agree: LoraConfig: the same"
    agree("LoraConfig", [LoraConfig(r=16, lora_alpha=64)], [LoraConfig(r=32, lora_alpha=64)])
    assert said(capsys) == "differ: LoraConfig: 1 of 1 differ; the first, #1: r=16 here, r=32 in helpers"


def test_a_different_number_of_values_is_said(capsys):
    agree("the split", [1, 2], [1, 2, 3])
    assert said(capsys) == "differ: the split: 2 values here, 3 from helpers"


@pytest.mark.parametrize("mine, theirs", [("1", 1), (None, 0)])
def test_only_numbers_get_the_tolerance(capsys, mine, theirs):
    agree("flags", [mine], [theirs])
    assert said(capsys).startswith("differ:")


def test_a_config_missing_a_field_says_which(capsys):
    agree("settings", [{"r": 32, "dropout": None}], [{"r": 32}])
    assert said(capsys) == "differ: settings: 1 of 1 differ; the first, #1: dropout=None here, no dropout in helpers"


def test_a_smoke_run_keeps_its_results_apart_from_the_real_ones(monkeypatch, tmp_path, capsys):
    from helpers import notebook
    from helpers.plumbing import paths

    assert notebook.SMOKE_RESULTS == paths.ROOT / "results" / "smoke"
    monkeypatch.setattr(notebook, "SMOKE_RESULTS", tmp_path / "smoke")
    monkeypatch.setenv("PRICER_SMOKE", "1")
    monkeypatch.setenv("PRICER_RESULTS", "")  # neither set by the learner: restored after the test
    monkeypatch.setenv("PRICER_STORE", "")
    _, store = notebook.setup()
    assert paths.results("leaderboard.csv") == tmp_path / "smoke" / "leaderboard.csv"
    assert f"Store: {tmp_path / 'smoke'}" in capsys.readouterr().out
    store.write_text("x", "probe.txt")
    assert (tmp_path / "smoke" / "probe.txt").read_text() == "x"


def test_the_first_cell_says_what_it_used_locally_and_full_mode_how_to_go_offline(monkeypatch, tmp_path, capsys):
    from helpers import notebook
    from helpers.plumbing import paths

    monkeypatch.setenv("PRICER_SMOKE", "")
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path))
    monkeypatch.setenv("PRICER_STORE", "")
    notebook.setup()
    out = capsys.readouterr().out
    assert f"Locally: the helpers package from {paths.ROOT}" in out
    assert "offline? restart with PRICER_SMOKE=1" in out


def test_a_smoke_run_writes_where_the_environment_says(monkeypatch, tmp_path):
    from helpers import notebook
    from helpers.plumbing import paths

    monkeypatch.setenv("PRICER_SMOKE", "1")
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path / "chosen"))
    monkeypatch.setenv("PRICER_STORE", "")
    notebook.setup()
    assert paths.results() == tmp_path / "chosen"


@pytest.fixture
def shell(monkeypatch, tmp_path):
    """A kernel's shell, without a screen to draw charts on, after the notebook's setup."""
    from IPython.core.interactiveshell import InteractiveShell

    from helpers import notebook

    class Shell(InteractiveShell):
        def enable_gui(self, gui=None) -> None:
            pass

    running = Shell()
    monkeypatch.setattr(notebook, "_shell", lambda: running)
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path))
    notebook.setup()
    return running


def test_in_a_notebook_a_full_disk_is_one_line_and_a_bug_keeps_its_traceback(capsys, shell):
    capsys.readouterr()
    shell.run_cell("raise OSError(28, 'No space left on device', '/content/drive/MyDrive/pricer/leaderboard.csv')")
    assert capsys.readouterr().out == (
        "error: cannot write /content/drive/MyDrive/pricer/leaderboard.csv: No space left on device; "
        "free some space, or write elsewhere (--output, PRICER_RESULTS or PRICER_STORE)\n"
    )
    shell.run_cell("raise OSError(9, 'Bad file descriptor')")  # not the user's: the whole traceback
    shown = capsys.readouterr()
    assert "Traceback" in shown.out + shown.err and "Bad file descriptor" in shown.out + shown.err


def test_a_chart_is_shown_as_a_compact_png_of_a_sixth_of_the_bytes(shell):
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    figure = Figure(figsize=(12, 8))
    figure.subplots().scatter(
        range(250), [i * 1.3 % 97 for i in range(250)], s=3, c=["red", "green", "orange"] * 83 + ["red"]
    )
    shown = shell.display_formatter.format(figure)[0]["image/png"]
    plain = io.BytesIO()
    figure.savefig(plain, format="png", bbox_inches="tight")
    assert len(shown) < len(plain.getvalue()) / 3
    assert Image.open(io.BytesIO(shown)).size[0] > 650  # still a full-width chart
