"""Offline stand-ins for the Hub models and datasets that TRL's GRPO tests name.

Every `trl-internal-testing/tiny-*` model is replaced by a randomly initialised model of the *same architecture*
(same `model_type`, a few thousand parameters) saved to a local directory, with a byte-level tokenizer:

* ``small`` flavor (the default): the 256 byte tokens at Qwen's byte ids (GPT-2 order), then the multi-character
  Qwen2.5 tokens that TRL's tests hard-code (``QWEN_TOKENS``), then Qwen's added tokens (``<|endoftext|>``,
  ``<|im_start|>``, ``<|im_end|>``, ``<tool_call>``, ...): about 320 tokens, so a forward over the vocabulary is cheap.
  A test that hard-codes Qwen ids (a fake ``generate``) gets them translated by ``qwen_id_map``: every such token
  exists here as one token, so rows keep their lengths, and ``decode`` gives the text the test's comment states.
* ``wide`` flavor: the same plus fillers up to 32768 tokens, for a test that relies on an untrained model almost
  never sampling EOS (the real tiny models have a 151k vocabulary).

Qwen-family stand-ins carry TRL's shipped Qwen chat templates (so ``add_response_schema`` recognises them and tool
calls parse); the other families use a ChatML template. ``trl-internal-testing/zen`` is rebuilt from the Zen of
Python (``this`` module) with the columns of its ``standard_prompt_only`` / ``conversational_prompt_only`` configs.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path

# Hub id -> (model_type, head). Head "lm" = *ForCausalLM, "cls" = *ForSequenceClassification (num_labels=1).
HUB_MODELS = {
    "trl-internal-testing/tiny-Qwen2ForCausalLM-2.5": ("qwen2", "lm"),
    "trl-internal-testing/tiny-Qwen2ForSequenceClassification-2.5": ("qwen2", "cls"),
    "trl-internal-testing/tiny-Qwen3ForCausalLM": ("qwen3", "lm"),
    "trl-internal-testing/tiny-Qwen3ForSequenceClassification": ("qwen3", "cls"),
    "trl-internal-testing/tiny-Qwen3MoeForCausalLM": ("qwen3_moe", "lm"),
    "trl-internal-testing/tiny-LlamaForCausalLM-3.2": ("llama", "lm"),
    "trl-internal-testing/tiny-LlamaForSequenceClassification-3.2": ("llama", "cls"),
    "trl-internal-testing/tiny-MistralForCausalLM-0.2": ("mistral", "lm"),
    "trl-internal-testing/tiny-Gemma2ForCausalLM": ("gemma2", "lm"),
    "trl-internal-testing/tiny-Cohere2ForCausalLM": ("cohere2", "lm"),
    "trl-internal-testing/tiny-GptOssForCausalLM": ("gpt_oss", "lm"),
    "trl-internal-testing/tiny-Glm4MoeForCausalLM": ("glm4_moe", "lm"),
    "trl-internal-testing/tiny-NemotronHForCausalLM-nano": ("nemotron_h", "lm"),
}

# Chat template per model type: TRL's shipped template where the real tiny model uses it, else ChatML.
_TRL_TEMPLATE = {"qwen2": "qwen2_5", "qwen3": "qwen3", "qwen3_moe": "qwen3"}

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + (message['content'] if message['content'] is string else '') "
    "+ '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Qwen2.5 ids of the added tokens (non-special ones keep their text in `decode(skip_special_tokens=True)`).
QWEN_ADDED = {
    151643: ("<|endoftext|>", True),
    151644: ("<|im_start|>", True),
    151645: ("<|im_end|>", True),
    151646: ("<|object_ref_start|>", True),
    151647: ("<|object_ref_end|>", True),
    151648: ("<|box_start|>", True),
    151649: ("<|box_end|>", True),
    151650: ("<|quad_start|>", True),
    151651: ("<|quad_end|>", True),
    151652: ("<|vision_start|>", True),
    151653: ("<|vision_end|>", True),
    151654: ("<|vision_pad|>", True),
    151655: ("<|image_pad|>", True),
    151656: ("<|video_pad|>", True),
    151657: ("<tool_call>", False),
    151658: ("</tool_call>", False),
    151659: ("<|fim_prefix|>", False),
    151660: ("<|fim_middle|>", False),
    151661: ("<|fim_suffix|>", False),
    151662: ("<|fim_pad|>", False),
    151663: ("<|repo_name|>", False),
    151664: ("<|file_sep|>", False),
    151665: ("<tool_response>", False),
    151666: ("</tool_response>", False),
    151667: ("<think>", False),
    151668: ("</think>", False),
}
WIDE_VOCAB = 32768  # the `wide` flavor: an untrained model samples EOS 1 time in ~32k, not 1 in ~320

# The multi-character Qwen2.5 tokens that TRL's GRPO tests hard-code (read off the texts in the tests' comments; ids
# below 256 are single bytes and need no entry).
QWEN_TOKENS = {
    293: " b",
    314: " {",
    330: ' "',
    397: ">\n",
    411: "out",
    450: "de",
    497: '",',
    522: "</",
    606: "name",
    788: '":',
    894: " any",
    927: "sh",
    944: "'t",
    1318: "text",
    1414: " know",
    1513: " don",
    2765: " won",
    4913: '{"',
    5212: ' {"',
    5392: " tool",
    6023: "hi",
    6659: "call",
    7692: "async",
    9520: "step",
    11248: "}}\n",
    13477: "crement",
    14172: "tool",
    16252: " increment",
    16370: "arguments",
    17453: "Done",
    22785: "_tool",
    35744: "increment",
    64648: "multiply",
    93054: "_multiply",
    95642: '"}}\n',
}


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (the order Qwen's byte-level vocabulary uses)."""
    bs = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _byte_vocab() -> dict[str, int]:
    """The 256 byte tokens at GPT-2/Qwen ids 0..255."""
    table = _bytes_to_unicode()
    order = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    order += [b for b in range(256) if b not in order]
    return {table[b]: i for i, b in enumerate(order)}


def build_tokenizer(flavor: str = "small", chat_template: str | None = None):
    """A byte-level `PreTrainedTokenizerFast` (no merges: text encodes byte by byte; the multi-byte tokens only
    decode). ``small``: bytes, then `QWEN_TOKENS`, then `QWEN_ADDED`; ``wide``: fillers up to `WIDE_VOCAB` before the
    added tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    table = _bytes_to_unicode()
    vocab = _byte_vocab()
    for text in QWEN_TOKENS.values():
        vocab["".join(table[b] for b in text.encode())] = len(vocab)
    if flavor == "wide":
        chars = list(table.values())
        fillers = (a + b for a in chars for b in chars)
        while len(vocab) < WIDE_VOCAB - len(QWEN_ADDED):
            token = next(fillers)
            if token not in vocab:
                vocab[token] = len(vocab)
    elif flavor != "small":
        raise ValueError(f"unknown tokenizer flavor {flavor!r}")

    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_tokens([AddedToken(t, special=special, normalized=False) for t, special in QWEN_ADDED.values()])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        truncation_side="left",
    )
    fast.chat_template = chat_template or CHATML
    return fast


def qwen_id_map(tokenizer) -> dict[int, int]:
    """Qwen2.5 id -> stand-in id, for every token TRL's GRPO tests hard-code (bytes keep their ids)."""
    mapping = {i: i for i in range(256)}
    table = _bytes_to_unicode()
    vocab = tokenizer.get_vocab()
    for qwen_id, text in QWEN_TOKENS.items():
        mapping[qwen_id] = vocab["".join(table[b] for b in text.encode())]
    for qwen_id, (text, _) in QWEN_ADDED.items():
        mapping[qwen_id] = tokenizer.convert_tokens_to_ids(text)
    return mapping


def chat_template_for(model_type: str) -> str:
    name = _TRL_TEMPLATE.get(model_type)
    if name is None:
        return CHATML
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja").read_text(encoding="utf-8")


def _config(model_type: str, tokenizer, head: str):
    from transformers import AutoConfig

    small = dict(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=4,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    extra = {
        "qwen3_moe": dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16, decoder_sparse_step=1),
        "gpt_oss": dict(num_local_experts=4, num_experts_per_tok=2, sliding_window=8, layer_types=None),
        "glm4_moe": dict(
            n_routed_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=16,
            n_shared_experts=1,
            first_k_dense_replace=1,
            n_group=1,
            topk_group=1,
        ),
        "gemma2": dict(sliding_window=8, layer_types=None),
        "cohere2": dict(sliding_window=8, layer_types=None),
        "nemotron_h": dict(
            hybrid_override_pattern="M*",
            num_hidden_layers=2,
            mamba_num_heads=4,
            mamba_head_dim=4,
            ssm_state_size=8,
            n_groups=1,
            n_routed_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=16,
            n_shared_experts=1,
            layer_types=None,
            mamba_chunk_size=8,
        ),
    }.get(model_type, {})
    kwargs = {**small, **extra}
    kwargs = {k: v for k, v in kwargs.items() if not (k == "layer_types" and v is None)}
    if head == "cls":
        kwargs["num_labels"] = 1
    return AutoConfig.for_model(model_type, **kwargs)


def save_model(path: str | os.PathLike, model_type: str, head: str, flavor: str) -> str:
    """Build and `save_pretrained` a tiny model of `model_type` with its stand-in tokenizer (and chat template)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, GenerationConfig

    path = Path(path)
    tokenizer = build_tokenizer(flavor, chat_template_for(model_type))
    config = _config(model_type, tokenizer, head)
    torch.manual_seed(0)
    auto = AutoModelForCausalLM if head == "lm" else AutoModelForSequenceClassification
    model = auto.from_config(config)
    if head == "lm":
        model.generation_config = GenerationConfig(
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None
        )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "STANDIN.json").write_text(json.dumps({"model_type": model_type, "head": head, "flavor": flavor}))
    return str(path)


class StandIns:
    """Builds stand-ins on first use, under `root` (one directory per Hub id and tokenizer flavor)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.built: dict[tuple[str, str], str] = {}

    def model_dir(self, hub_id: str, flavor: str = "small") -> str | None:
        if hub_id not in HUB_MODELS:
            return None
        key = (hub_id, flavor)
        if key not in self.built:
            model_type, head = HUB_MODELS[hub_id]
            target = self.root / flavor / hub_id.replace("/", "--")
            if not (target / "STANDIN.json").exists():
                save_model(target, model_type, head, flavor)
            self.built[key] = str(target)
        return self.built[key]


# --------------------------------------------------------------------------------------------- datasets


def zen_lines() -> list[str]:
    """The Zen of Python, decoded from the standard library's `this` module (no download)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        import this
    text = codecs.decode(this.s, "rot13")
    return [line.strip() for line in text.splitlines()[2:] if line.strip()]


def zen_dataset(config_name: str | None, split: str | None = None, streaming: bool = False):
    """`trl-internal-testing/zen` stand-in: 17 train / 2 test rows, a prompt = the first half of a Zen line."""
    from datasets import Dataset, DatasetDict, IterableDatasetDict

    lines = zen_lines()
    prompts = [" ".join(line.split()[: max(1, len(line.split()) // 2)]) for line in lines]
    if config_name in (None, "standard_prompt_only"):
        rows = [{"prompt": p} for p in prompts]
    elif config_name == "conversational_prompt_only":
        rows = [{"prompt": [{"role": "user", "content": f"What is better than ugly? {p}"}]} for p in prompts]
    else:
        raise ValueError(f"no stand-in for trl-internal-testing/zen config {config_name!r}")
    parts = {"train": Dataset.from_list(rows[:17]), "test": Dataset.from_list(rows[17:19])}
    if streaming:
        parts = {k: v.to_iterable_dataset() for k, v in parts.items()}
    if split is not None:
        return parts[split]
    return IterableDatasetDict(parts) if streaming else DatasetDict(parts)


HUB_DATASETS = {"trl-internal-testing/zen": zen_dataset}


def uses_qwen_ids(source: str) -> bool:
    """True if a test's source hard-codes Qwen2.5's special token ids (151643+)."""
    return re.search(r"\b1516[4-6]\d\b", source) is not None
