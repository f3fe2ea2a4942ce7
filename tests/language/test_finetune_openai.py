"""Fine-tuning through the OpenAI API, end to end against the loopback server."""

import json

import pytest

from helpers.core.tester import Tester
from helpers.language.finetune_openai import FineTuneConfig, FineTuner, JobState, chat_example, check_jsonl, write_jsonl
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.offline.fake_openai import FakeOpenAI
from helpers.plumbing.errors import DataError


def tuner_for(server, tmp_path, lines: list[str] | None = None, store=None, **overrides) -> FineTuner:
    config = FineTuneConfig(
        base_url=server.url, api_key=server.api_key, workdir=str(tmp_path / "ft"), poll_seconds=0.01, **overrides
    )
    return FineTuner(config, printer=(lines.append if lines is not None else lambda line: None), store=store)


def test_a_chat_example_answers_in_whole_dollars(bundled_train):
    item = bundled_train[0]
    example = chat_example(item)
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert example["messages"][2]["content"] == f"Price is ${round(item.price)}.00"
    assert "Price is $" not in example["messages"][1]["content"]


def test_written_files_pass_the_check(tmp_path, bundled_train):
    check = check_jsonl(write_jsonl(bundled_train[:30], tmp_path / "t.jsonl"))
    assert check.ok and check.lines == 30 and check.estimated_tokens > 30 * 40


def test_the_check_names_each_bad_line(tmp_path, bundled_train):
    path = write_jsonl(bundled_train[:2], tmp_path / "t.jsonl")
    good = json.dumps(chat_example(bundled_train[0]))
    no_answer = json.dumps({"messages": chat_example(bundled_train[0])["messages"][:2]})
    path.write_text(good + "\n" + "{broken\n" + no_answer + "\n")
    check = check_jsonl(path)
    assert not check.ok and check.lines == 3
    assert check.problems[0] == "line 2: not JSON"
    assert check.problems[1].startswith("line 3: roles ['system', 'user']")


def test_the_course_split_needs_enough_items(server, tmp_path, bundled_train):
    with pytest.raises(DataError, match="need 250 training items, have 100"):
        tuner_for(server, tmp_path).write_files(bundled_train[:100])


def test_fine_tune_from_jsonl_to_a_model_the_tester_evaluates(server, tmp_path, bundled_train, bundled_test):
    lines: list[str] = []
    tuner = tuner_for(server, tmp_path, lines, wandb=True)
    state = tuner.run(bundled_train)
    assert state.status == "succeeded"
    assert state.fine_tuned_model == "ft:gpt-4o-mini-2024-07-18:local:pricer:0001"
    job = server.jobs["ftjob-0001"]
    assert job["hyperparameters"] == {"n_epochs": 1} and job["seed"] == 42 and job["suffix"] == "pricer"
    assert job["integrations"] == [{"type": "wandb", "wandb": {"project": "gpt-pricer"}}]
    uploaded = {f["filename"]: f["content"].count("\n") for f in server.files.values()}
    assert uploaded == {"train.jsonl": 200, "validation.jsonl": 50}
    assert any("New fine-tuned model created" in line for line in lines)
    assert lines[-1] == f"Job ftjob-0001 succeeded: {state.fine_tuned_model}"
    config = FrontierConfig(model=state.fine_tuned_model, base_url=server.url, api_key=server.api_key, cache=None)
    pricer = FrontierPricer(config)
    result = Tester(pricer, bundled_test, size=20, verbose=False).run()
    assert result.n == 20 and pricer.stats.calls == 20
    sent = json.loads(server.chat_requests()[-1]["body"])
    assert sent["model"] == state.fine_tuned_model


def test_following_resumes_after_a_restart_without_repeating_events(server, tmp_path, bundled_train):
    first_lines: list[str] = []
    tuner = tuner_for(server, tmp_path, first_lines)
    train_path, validation_path = tuner.write_files(bundled_train)
    state = tuner.create_job(tuner.upload(train_path), tuner.upload(validation_path))
    tuner.follow(state, max_polls=2)  # then the notebook was closed
    assert JobState.load(tuner.state_path).status != "succeeded"
    later_lines: list[str] = []
    resumed = tuner_for(server, tmp_path, later_lines).run(bundled_train)  # a fresh process
    assert resumed.status == "succeeded" and len(server.jobs) == 1  # no second job
    events = [line.split(" ", 1)[1] for line in first_lines + later_lines if line[:2].isdigit()]
    assert len(events) == len(set(events)) == len(server.jobs["ftjob-0001"]["_events"])


def test_a_bad_key_fails_the_upload_in_one_line(server, tmp_path, bundled_train):
    from helpers.language.frontier import FrontierAuthError

    tuner = FineTuner(
        FineTuneConfig(base_url=server.url, api_key="nope-nope-nope", workdir=str(tmp_path)), printer=lambda line: None
    )
    path = write_jsonl(bundled_train[:3], tmp_path / "t.jsonl")
    with pytest.raises(FrontierAuthError) as error:
        tuner.upload(path)
    assert "nope-nope" not in str(error.value)


def test_a_job_can_be_followed_by_its_id_from_a_fresh_folder(server, tmp_path, bundled_train):
    tuner = tuner_for(server, tmp_path)
    train_path, _ = tuner.write_files(bundled_train)
    job_id = tuner.create_job(tuner.upload(train_path), None).job_id
    lines: list[str] = []
    other = tuner_for(server, tmp_path / "elsewhere", lines)
    state = other.follow_job(job_id)
    assert state.status == "succeeded" and state.job_id == job_id
    assert JobState.load(other.state_path).fine_tuned_model == state.fine_tuned_model
    assert server.jobs[job_id]["validation_file"] is None  # none was sent


def test_a_new_machine_follows_the_job_the_store_remembers(server, tmp_path, bundled_train):
    from helpers.plumbing.store import FolderStore

    store = FolderStore(tmp_path / "store")
    first = tuner_for(server, tmp_path / "machine1", store=store)
    train_path, _ = first.write_files(bundled_train)
    first.create_job(first.upload(train_path), None)  # then the runtime was lost
    lines: list[str] = []
    state = tuner_for(server, tmp_path / "machine2", lines, store=store).run(bundled_train)
    assert len(server.jobs) == 1 and state.status == "succeeded"  # the same job, not a second one
    assert lines[0].startswith("Resuming job ftjob-0001")


def test_an_account_refused_fine_tuning_is_one_line_that_points_to_week_7(tmp_path, bundled_train):
    from helpers.language.finetune_openai import FineTuningRefused

    with FakeOpenAI(refuse_fine_tuning=True) as refusing:
        tuner = tuner_for(refusing, tmp_path)
        train_path, _ = tuner.write_files(bundled_train)
        with pytest.raises(FineTuningRefused) as refused:
            tuner.create_job(tuner.upload(train_path), None)
    message = str(refused.value)
    assert "\n" not in message and "403 permission denied" in message
    assert message.endswith("Week 7 fine-tunes an open model instead: notebooks/week7/day3_4_train.ipynb")
    assert refused.value.__cause__ is None and refused.value.__suppress_context__  # the reply is never shown
    assert not tuner.state_path.exists()  # no job was saved


def test_the_command_line_says_so_in_one_line_and_exits_2(tmp_path, bundled_train):
    import subprocess
    import sys

    from helpers.data.item_files import save_items

    train = save_items(bundled_train[:260], tmp_path / "train.jsonl")
    with FakeOpenAI(refuse_fine_tuning=True) as refusing:
        env = {**__import__("os").environ, "OPENAI_API_KEY": refusing.api_key, "PRICER_RESULTS": str(tmp_path)}
        command = [sys.executable, "-m", "helpers", "finetune-openai", "--train", str(train)]
        run = subprocess.run([*command, "--base-url", refusing.url], capture_output=True, text=True, env=env)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ")
    assert "closed self-serve fine-tuning to new accounts" in run.stderr
