import pytest

from helpers.plumbing.errors import ModelAccessError
from helpers.plumbing.hub import UNREACHABLE, check_folder, explain


def test_a_gated_repo_says_to_log_in():
    reason = explain(OSError("You are trying to access a gated repo.\nMake sure to have access to it."))
    assert "gated" in reason and "HF_TOKEN" in reason and "\n" not in reason


def test_an_unreachable_hub_says_to_pass_a_local_folder():
    reason = explain(OSError("We couldn't connect to 'https://huggingface.co' to load the files"))
    assert reason == UNREACHABLE


def test_anything_else_is_its_own_first_line():
    assert explain(ValueError("adapter_config.json missing\nmore detail")) == "adapter_config.json missing"
    assert explain(KeyError()) == "KeyError"


@pytest.mark.parametrize("name", ["/no/such/model", "./model", "results/tiny/model"])
def test_a_path_that_does_not_exist_is_named_as_a_missing_folder(name):
    with pytest.raises(ModelAccessError, match=f"^cannot load model '{name}': no such folder$"):
        check_folder(name, ("config.json",), "model", ModelAccessError)


def test_a_hub_id_is_left_to_the_hub():
    check_folder("meta-llama/Meta-Llama-3.1-8B", ("config.json",), "model", ModelAccessError)  # no error


def test_a_folder_without_the_file_says_what_it_lacks(tmp_path):
    with pytest.raises(ModelAccessError, match="^cannot load adapter '.*': the folder has no adapter_config.json$"):
        check_folder(str(tmp_path), ("adapter_config.json",), "adapter", ModelAccessError)
