"""The CI part of "TRL's own GRPO trainer tests with VPDTrainer swapped in" (`python -m tests.trl_suite`).

CI cannot run TRL's test file itself (not in TRL's wheel/sdist, no GitHub access), so this checks the machinery on
our own TRL-style file (`tests/trl_suite/selfcheck.py`): the stand-ins for TRL's Hub models and datasets, the
translation of hard-coded Qwen token ids, and an end-to-end run of both passes with the report.
"""

import json

import pytest

from tests.trl_suite import standins


@pytest.mark.parametrize("hub_id", sorted(standins.HUB_MODELS))
def test_every_hub_model_has_a_loadable_standin(tmp_path, hub_id):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    path = standins.StandIns(tmp_path).model_dir(hub_id)
    model_type, head = standins.HUB_MODELS[hub_id]
    auto = AutoModelForCausalLM if head == "lm" else AutoModelForSequenceClassification
    model = auto.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert AutoConfig.from_pretrained(path).model_type == model_type
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.decode(tokenizer("Beautiful is better than ugly.").input_ids) == "Beautiful is better than ugly."
    assert sum(p.numel() for p in model.parameters()) < 200_000


def test_hard_coded_qwen_ids_translate_to_the_same_text():
    tokenizer = standins.build_tokenizer("small", standins.chat_template_for("qwen3"))
    idmap = standins.qwen_id_map(tokenizer)
    # Qwen2.5 ids of '<tool_call>\n{"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\n</tool_call><|im_end|>'
    qwen = [
        151657,
        198,
        4913,
        606,
        788,
        330,
        64648,
        22785,
        497,
        330,
        16370,
        788,
        5212,
        64,
        788,
        220,
        18,
        11,
        330,
        65,
        788,
        220,
        19,
        11248,
        151658,
        151645,
    ]
    text = '<tool_call>\n{"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\n</tool_call><|im_end|>'
    assert tokenizer.decode([idmap[i] for i in qwen]) == text
    assert len(tokenizer) < 400  # a forward over the vocabulary stays cheap


def test_qwen_standin_parses_tool_calls_like_trl_expects():
    """TRL recognises the stand-in's chat template (its own shipped Qwen3 one) and parses a tool call from it."""
    from trl.chat_template_utils import add_response_schema

    tokenizer = add_response_schema(standins.build_tokenizer("small", standins.chat_template_for("qwen3_moe")))
    text = '<tool_call>\n{"name": "multiply_tool", "arguments": {"a": 3, "b": 4}}\n</tool_call>'
    parsed = tokenizer.parse_response(text, prefix="")
    assert parsed["tool_calls"][0]["function"]["name"] == "multiply_tool"


def test_zen_standin_has_the_columns_trls_tests_read():
    train = standins.zen_dataset("standard_prompt_only", split="train")
    assert train.column_names == ["prompt"] and len(train) == 17 and isinstance(train[0]["prompt"], str)
    conv = standins.zen_dataset("conversational_prompt_only", split="test")
    assert conv[0]["prompt"][0]["role"] == "user"
    assert next(iter(standins.zen_dataset("standard_prompt_only", split="train", streaming=True)))["prompt"]


def test_runner_explains_how_to_get_trl_tests(monkeypatch, capsys):
    from tests.trl_suite.__main__ import main

    monkeypatch.delenv("TRL_TESTS_DIR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert "git clone" in str(exit_info.value.code)


@pytest.mark.slow
def test_both_runs_on_a_trl_style_file(tmp_path):
    """The whole pipeline on our own TRL-style file: stand-ins, Qwen-id translation, the swap, and the report."""
    from pathlib import Path

    from tests.trl_suite.__main__ import main

    selfcheck = Path(__file__).parent / "trl_suite" / "selfcheck.py"
    report, raw = tmp_path / "report.md", tmp_path / "raw.json"
    code = main(["--trl-tests", str(selfcheck), "-n", "0", "--parallel", "--output", str(report), "--json", str(raw)])
    results = json.loads(raw.read_text())
    assert len(results["trl"]) == len(results["vpd"]) == 4
    for mode, trainer in (("trl", "GRPOTrainer"), ("vpd", "VPDTrainer")):
        for nodeid, entry in results[mode].items():
            assert entry["outcome"] == "passed", (mode, nodeid, entry["message"])
            assert entry["trainers"] == [trainer], (mode, nodeid)
    assert code == 0
    assert "| `VPDTrainer` | 4 | 0 |" in report.read_text()
