"""TRL 1.13's CPOTrainer.tokenize_row on preference rows, with the tiny demo model's real tokenizer
(public/models/tiny), written to tests/data/fixtures/trl-1.13-tokenize.json for tests/data/tokenize.test.ts.

Run (wheels from /opt/pypi/files):
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install --no-index --find-links /opt/pypi/files trl
  /tmp/venv/bin/python scripts/make-trl-tokenize-fixtures.py

tokenize_row is called unbound on a stand-in for the trainer holding only what it reads (the tokenizer,
max_length, is_encoder_decoder, build_tokenized_answer), so no model is needed.
"""
import json
import os
import types

import trl
from transformers import AutoTokenizer
from trl.experimental.cpo.cpo_trainer import CPOTrainer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, "public/models/tiny"))

PROMPT = "Translate this from German to English:\nGerman: Guten Morgen, wie geht es dir heute?\nEnglish: "
ROWS = [
    # No merge: the prompt ends on a word.
    ("Translate this from German to English:\nGerman: Guten Morgen.\nEnglish:", " Good morning.", " Good evening, friends."),
    # The prompt's trailing space merges with the chosen answer's first word only (SentencePiece's ▁).
    (PROMPT, "Good morning, how are you today?", "\nHello, how are you?"),
    # ... with the rejected answer's only.
    (PROMPT, "\nGood morning!", "Hi, how are you doing today, my friend?"),
    # Both merge.
    (PROMPT, "Good morning.", "Morning, how are things going today?"),
]
MAX_LENGTHS = [512, 40, 20, 14, 12, 10]  # the rule cuts only once the longer answer exceeds max_length / 2

cases = []
for max_length in MAX_LENGTHS:
    trainer = types.SimpleNamespace(processing_class=tok, max_length=max_length, is_encoder_decoder=False)
    trainer.build_tokenized_answer = types.MethodType(CPOTrainer.build_tokenized_answer, trainer)
    for prompt, chosen, rejected in ROWS:
        out = CPOTrainer.tokenize_row(trainer, {"prompt": prompt, "chosen": chosen, "rejected": rejected})
        cases.append({
            "max_length": max_length,
            "prompt": prompt,
            "chosen": chosen,
            "rejected": rejected,
            "chosen_input_ids": out["chosen_input_ids"],
            "chosen_labels": out["chosen_labels"],
            "rejected_input_ids": out["rejected_input_ids"],
            "rejected_labels": out["rejected_labels"],
        })

path = os.path.join(ROOT, "tests/data/fixtures/trl-1.13-tokenize.json")
with open(path, "w") as f:
    json.dump({"trl_version": trl.__version__, "tokenizer": "public/models/tiny", "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {path}")
