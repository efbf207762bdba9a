"""Tiny, locally built causal LMs and tokenizers.

Tests, the demo, notebooks (in CI) and the benchmarks all need a model without touching the Hub. This module builds a
Qwen2-shaped model and a byte-level BPE tokenizer with a ChatML chat template from scratch, in about a second.
"""

from __future__ import annotations

import os
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Text the BPE merges are learned from: chat roles, the teacher template's words, digits and code. Any other text
# still tokenizes (byte-level fallback), only into more tokens.
_CORPUS = [
    "system user assistant feedback attempt solution correct incorrect answer question",
    "The following is feedback from your unsuccessful earlier attempt. Correctly solve the original question.",
    "A correct solution: def f(x): return x + 1 print(input()) assert f(2) == 3",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 + - * / = ( ) [ ] { } < > , . : ;",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "<reasoning> </reasoning> <answer> </answer> \\boxed{} A B C D",
]


def build_tiny_tokenizer(vocab_size: int = 400, extra_corpus: list[str] | None = None):
    """A byte-level BPE `PreTrainedTokenizerFast` with ChatML special tokens and chat template (left padding, as
    TRL's GRPO expects for prompts)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    # Qwen2's normalizer and pre-tokenizer, so that `AutoTokenizer` (which picks `Qwen2Tokenizer` for a Qwen2 config)
    # reproduces our token ids exactly after `save_pretrained`.
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator((_CORPUS + list(extra_corpus or [])) * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        truncation_side="left",
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_model(
    tokenizer,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 64,
    seed: int = 0,
):
    """A randomly initialised `Qwen2ForCausalLM` sized to `tokenizer` (vocab size and special ids)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None
    )
    return model


def save_tiny_model(path: str | os.PathLike, **model_kwargs) -> str:
    """Build a tiny model and tokenizer and `save_pretrained` both to `path` (a model id usable by TRL and our CLI).

    `AutoTokenizer` reloads the tokenizer as `Qwen2Tokenizer`; the pre-tokenizer above is Qwen2's, so the ids match.
    """
    path = Path(path)
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, **model_kwargs)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)
