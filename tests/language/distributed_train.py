"""Run by tests/language/test_distributed.py under `accelerate launch`, two processes on the CPU: the
command line's `train` (QLoRA on the tiny model, data parallel), with each process writing down
the rows it trained on and its adapter. Arguments: the report folder, then `train`'s flags."""

import hashlib
import json
import sys
from pathlib import Path

import helpers.language.training as training
from helpers.cli.commands import main
from helpers.language.loading import distributed

report, flags = Path(sys.argv[1]), sys.argv[2:]
seen: list[str] = []
built = []
build_trainer = training.build_trainer


def recording_trainer(*args, **kwargs):
    """The trainer `train` builds, its collator noting each row it is handed."""
    trainer = build_trainer(*args, **kwargs)
    collate = trainer.data_collator

    def recording(rows):
        seen.extend(hashlib.sha1(str(row["input_ids"]).encode()).hexdigest() for row in rows)
        return collate(rows)

    trainer.data_collator = recording
    built.append(trainer)
    return trainer


training.build_trainer = recording_trainer
main(["train", *flags])
[trainer] = built
weights = b"".join(p.detach().float().numpy().tobytes() for p in trainer.model.parameters() if p.requires_grad)
rank = distributed().process_index
(report / f"rank{rank}.json").write_text(
    json.dumps(
        {
            "rows": seen,
            "adapter": hashlib.sha1(weights).hexdigest(),
            "epoch": trainer.state.epoch,
            "steps": trainer.state.global_step,
            "dataset_rows": len(trainer.train_dataset),
        }
    )
)
