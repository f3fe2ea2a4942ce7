from helpers.hub import explain


def test_a_gated_repo_says_to_log_in():
    reason = explain(OSError("You are trying to access a gated repo.\nMake sure to have access to it."))
    assert "gated" in reason and "HF_TOKEN" in reason and "\n" not in reason


def test_an_unreachable_hub_says_to_pass_a_local_folder():
    reason = explain(OSError("We couldn't connect to 'https://huggingface.co' to load the files"))
    assert reason == "not in the local cache and the hub is unreachable: pass a local folder"


def test_anything_else_is_its_own_first_line():
    assert explain(ValueError("adapter_config.json missing\nmore detail")) == "adapter_config.json missing"
    assert explain(KeyError()) == "KeyError"
