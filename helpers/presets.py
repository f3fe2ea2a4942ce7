"""Named presets: the course's choices that several stages share, each written once.

A preset names the base model and the prompt of one edition of the course. Configs take
their defaults from here, so a model id is never copied into a second place.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.prompts import COURSE, PromptFormat


@dataclass(frozen=True)
class Preset:
    name: str
    base_model: str  # hub id of the open model that weeks 6-7 tokenize with and fine-tune
    prompt: PromptFormat


COURSE_2024 = Preset(name="course-2024", base_model="meta-llama/Meta-Llama-3.1-8B", prompt=COURSE)
BASE_MODEL = COURSE_2024.base_model
