"""Run by tests/test_distributed.py under `accelerate launch --cpu --num_processes 2`: QLoRA on
the tiny model, data parallel; each process writes down the rows it trained on and its adapter."""

import hashlib
import json
import sys
from pathlib import Path

from helpers.models.loading import distributed
from helpers.models.training import TrainConfig, build_trainer, train

model, output, report = sys.argv[1], sys.argv[2], Path(sys.argv[3])
config = TrainConfig.pipeline_check(base_model=model, output=output, max_steps=3, batch_size=2, logging_steps=1)
trainer = build_trainer(config)
seen: list[str] = []
collate = trainer.data_collator


def recording(rows):
    seen.extend(hashlib.sha1(str(row["input_ids"]).encode()).hexdigest() for row in rows)
    return collate(rows)


trainer.data_collator = recording
train(config, trainer=trainer)
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
