"""Reads our GGUF LoRA export of ../shared/golden's adapter with gguf-py (llama.cpp's own reader) and checks it
against the PEFT files as convert_lora_to_gguf.py would convert them: metadata, names, ggml shapes, values,
and LlamaModel.permute applied to q_proj / k_proj lora_B. Not part of the test suite (it needs Python).
    node --import tsx scripts/check-gguf-lora.ts /tmp/golden-lora.gguf && VENV/bin/python scripts/check-gguf-lora.py /tmp/golden-lora.gguf
"""
import json, sys
import numpy as np
from gguf import GGUFReader
from safetensors.numpy import load_file

GOLDEN = "../shared/golden"
NAMES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
         "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}


def permute(w, n_head, n_head_kv):  # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


reader = GGUFReader(sys.argv[1])
field = lambda k: reader.fields[k].contents()
config = json.load(open(f"{GOLDEN}/model/config.json"))
lora_cfg = json.load(open(f"{GOLDEN}/adapter/adapter_config.json"))
assert field("general.architecture") == "llama", field("general.architecture")
assert field("general.type") == "adapter"
assert field("adapter.type") == "lora"
assert field("adapter.lora.alpha") == lora_cfg["lora_alpha"], field("adapter.lora.alpha")
tensors = {t.name: t for t in reader.tensors}
peft = load_file(f"{GOLDEN}/adapter/adapter_model.safetensors")
expected = {}
for name, w in peft.items():
    layer = int(name.split(".layers.")[1].split(".")[0])
    module = name.split(".")[-3]
    base = f"blk.{layer}.{NAMES[module]}.weight"
    if ".lora_A." in name:
        expected[base + ".lora_a"] = w
    else:
        if module == "q_proj":
            w = permute(w, config["num_attention_heads"], config["num_attention_heads"])
        elif module == "k_proj":
            w = permute(w, config["num_attention_heads"], config["num_key_value_heads"])
        expected[base + ".lora_b"] = w
assert sorted(tensors) == sorted(expected), (sorted(tensors), sorted(expected))
worst = 0.0
for name, want in expected.items():
    t = tensors[name]
    assert list(t.shape) == list(reversed(want.shape)), (name, t.shape, want.shape)  # ggml ne order
    got = np.asarray(t.data, dtype=np.float32).reshape(want.shape)
    worst = max(worst, float(np.abs(got - want.astype(np.float32)).max()))
tol = 0 if tensors[next(iter(expected))].tensor_type.name == "F32" else 1e-3
assert worst <= tol, worst
print(f"{len(expected)} tensors match the PEFT adapter as convert_lora_to_gguf.py converts it (max |diff| {worst:g})")
