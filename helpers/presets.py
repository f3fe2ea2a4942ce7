"""Named presets: the course's choices that several stages share, each written once.

A preset names one edition of the course: its base model, its prompt, its curated data sets on
the hub and the instructor's fine-tuned adapter at a fixed revision. A learner without the time
or the GPU to train can evaluate the instructor's adapter, and every learner can compare with
it. Configs take their defaults from here, so a model id is never copied into a second place.
`python -m helpers train --preset course-2025` (or `predict`) selects them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.core.prompts import PROMPT_2024, PROMPT_2025, PromptFormat
from helpers.plumbing.errors import ConfigError

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # week 8's: the vectors of retrieval
ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]  # LoRA on the attention projections
MLP = ["gate_proj", "up_proj", "down_proj"]  # and on the MLP's, in the 2025 edition's full run


@dataclass(frozen=True)
class Preset:
    name: str
    base_model: str  # hub id of the open model that the course tokenizes with and fine-tunes
    prompt: PromptFormat
    dataset: str  # curated items on the hub (train and test splits)
    lite_dataset: str | None  # the small variant, where the edition has one
    adapter: str  # the instructor's LoRA adapter
    revision: str  # the adapter's commit, fixed so results can be reproduced
    prompts_dataset: str | None = None  # ready {"prompt", "completion"} rows, where the edition has them
    lite_prompts_dataset: str | None = None
    validation: bool = False  # whether its data sets have a validation split (the ensemble's weights need one)
    # the edition's QLoRA values (TrainConfig field: value), for its full run and its lite one
    training: dict[str, dict[str, object]] = field(default_factory=dict)
    lite_training: dict[str, object] | None = None  # None: the edition has no lite run

    def flag_defaults(self) -> dict[str, dict]:
        """For `--preset NAME`: the defaults it gives the train and predict stages' flags; flags given win."""
        common = {"base_model": self.base_model, "preset": self.name}
        return {
            "train": {**common, **self.training, "train": self.prompts_dataset or self.dataset},
            "predict": {**common, "adapter": self.adapter, "revision": self.revision, "test": self.dataset},
        }


COURSE_2024 = Preset(
    name="course-2024",
    base_model="meta-llama/Meta-Llama-3.1-8B",
    prompt=PROMPT_2024,
    dataset="ed-donner/pricer-data",  # text (training or test prompt), price
    lite_dataset=None,
    adapter="ed-donner/pricer-2024-09-13_13.04.39",
    revision="e8d637df551603dc86cd7a1598a8f44af4d7ae36",
    training={  # the 2024 edition's values, which are TrainConfig's defaults
        "lora_r": 32,
        "lora_alpha": 64,
        "lora_dropout": 0.1,
        "target_modules": ATTENTION,
        "epochs": 1,
        "batch_size": 4,
        "learning_rate": 1e-4,
        "warmup_ratio": 0.03,
        "max_length": 182,
    },  # fmt: skip
)
COURSE_2025 = Preset(
    name="course-2025",
    base_model="meta-llama/Llama-3.2-3B",
    prompt=PROMPT_2025,
    dataset="ed-donner/items_full",  # title, category, price, full, weight, summary, prompt, id
    lite_dataset="ed-donner/items_lite",
    adapter="ed-donner/price-2025-11-28_18.47.07",
    revision="b19c8bfea3b6ff62237fbb0a8da9779fc12cefbd",
    prompts_dataset="ed-donner/items_prompts_full",  # prompt, completion
    lite_prompts_dataset="ed-donner/items_prompts_lite",
    validation=True,
    # the 2025 edition's values; its notebook gives no alpha or dropout of its own here: alpha is
    # kept at twice r and dropout at 2024's, so that only what the edition changed changes
    training={
        "lora_r": 256,
        "lora_alpha": 512,
        "lora_dropout": 0.1,
        "target_modules": [*ATTENTION, *MLP],
        "epochs": 3,
        "batch_size": 256,
        "learning_rate": 1e-4,
        "warmup_ratio": 0.01,
        "max_length": 128,
    },
    lite_training={
        "lora_r": 32,
        "lora_alpha": 64,
        "lora_dropout": 0.1,
        "target_modules": ATTENTION,
        "epochs": 1,
        "batch_size": 32,
        "learning_rate": 1e-4,
        "warmup_ratio": 0.01,
        "max_length": 128,
    },  # fmt: skip
)
PRESETS = {preset.name: preset for preset in (COURSE_2024, COURSE_2025)}
BASE_MODEL = COURSE_2024.base_model


def preset(name: str) -> Preset:
    """The preset of that name; an unknown name is one line listing the known ones."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


# Llama 3.1 8B as its model card and config publish it, to set beside what week 7 day 1 reads
# from the loaded model's config.
LLAMA_31_8B_CARD = {
    "parameters": 8_030_261_248,
    "layers": 32,
    "attention heads": 32,
    "key/value heads": 8,
    "hidden size": 4096,
    "vocabulary": 128_256,
    "context length": 131_072,
}
