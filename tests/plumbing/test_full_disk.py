"""`train` on a disk that cannot take its checkpoint: the one `cannot write` line that every
other stage gives, though safetensors reports it in an exception of its own."""

import os
import resource
import signal
import subprocess
import sys

import pytest

from helpers.cli.config import as_flags
from helpers.language.training import TrainConfig
from helpers.plumbing import paths

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(paths.ROOT)}


def small_disk() -> None:
    """A real limit on file size, as a full disk: the adapter's safetensors file fails part way."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) rather than killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))


@pytest.mark.slow
def test_train_on_a_full_disk_at_the_checkpoint_save_is_one_line(tmp_path, tiny_model_dir):
    output = tmp_path / "adapter"
    config = TrainConfig.pipeline_check(base_model=str(tiny_model_dir), output=str(output), max_steps=2, save_steps=1)
    command = [sys.executable, "-m", "helpers", "train", *as_flags(config)]
    run = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=tmp_path, preexec_fn=small_disk)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "SafetensorError" not in run.stderr
    errors = [line[line.index("error: ") :] for line in run.stderr.splitlines() if "error: " in line]
    assert errors == [
        f"error: cannot write {output}: File too large; free some space, or write elsewhere "
        "(--output, PRICER_RESULTS or PRICER_STORE)"
    ]
    assert not (output / "adapter_model.safetensors").exists()  # no adapter saved from a broken run


def test_another_error_a_library_quotes_keeps_its_own_exception():
    """Only a full or read-only disk becomes the one line: a missing file (os error 2), or an
    error that quotes none, is a bug to see whole."""
    import pytest

    from helpers.plumbing.files import quoted_disk_errors

    for message in ("Error while serializing: I/O error: No such file (os error 2)", "shape mismatch"):
        with pytest.raises(Exception) as raised, quoted_disk_errors("adapter"):
            raise Exception(message)
        assert type(raised.value) is Exception and str(raised.value) == message
