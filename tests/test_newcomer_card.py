"""The model card of a VPD run with a local model and local data (issue 14): it links nothing local to the Hub, says
where the student and the teacher are saved, lists the run's settings, and its loading snippet works as printed."""

import re

import pytest

from trl_vpd.cli import main
from trl_vpd.model_card import is_hub_id, loading_snippet, saved_layout


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("card") / "science-vpd"
    assert main(["train", "--config", "science_sciknoweval", "--smoke", "--output_dir", str(out)]) == 0
    return out


@pytest.mark.slow
def test_card_describes_a_local_run(smoke_run):
    card = (smoke_run / "README.md").read_text()
    assert "fine-tuned version of the local model `" in card and "[None]" not in card
    assert "trained on local data (`" in card and "huggingface.co/datasets" not in card
    assert 'from_pretrained("None")' not in card and f'from_pretrained("{smoke_run}")' in card
    procedure = card.split("## Training procedure", 1)[1].split("###", 1)[0]
    assert "| steps trained | 2 |" in procedure and "| reward functions | choice_reward |" in procedure
    assert "functions: choice_feedback" in procedure and "successes only" in procedure
    assert "on critiques alone" in procedure  # the recipe's adapter teacher: its E-step's default
    assert "relative to the current student" in procedure  # the recipe pins the paper's reference
    assert "2605.15113" in card


@pytest.mark.slow
def test_card_loading_snippet_loads_student_and_teacher(smoke_run):
    """Run the card's own quick start (generation shortened): the student is the root adapter, the teacher loads
    from `vpd_teacher/`, and both hold the saved weights."""
    from safetensors.torch import load_file

    card = (smoke_run / "README.md").read_text()
    code = re.search(r"## Quick start\s+```python\n(.*?)```", card, re.S).group(1).replace("128", "4")
    scope = {}
    exec(code, scope)  # noqa: S102 - the snippet a user would copy
    model = scope["model"]
    assert model.active_adapter == "default" and set(model.peft_config) == {"default", "vpd_teacher"}
    for adapter, folder in (("default", smoke_run), ("vpd_teacher", smoke_run / "vpd_teacher")):
        saved = load_file(folder / "adapter_model.safetensors")
        loaded = {k: v for k, v in model.state_dict().items() if f".{adapter}." in k}
        assert len(loaded) == len(saved) > 0
        for key, tensor in saved.items():
            name = key.replace(".weight", f".{adapter}.weight")
            assert (loaded[name] == tensor).all(), key


def test_hub_ids_and_local_paths(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    assert is_hub_id("Qwen/Qwen3-1.7B") and is_hub_id("gpt2")
    assert not is_hub_id(str(data)) and not is_hub_id("./data/x.jsonl") and not is_hub_id(None)


@pytest.mark.parametrize("teacher_mode", ["shared", "adapter", "frozen", "ema"])
def test_layout_and_snippet_for_every_teacher_mode(teacher_mode):
    for peft in (True, False):
        layout = " ".join(saved_layout(teacher_mode, peft))
        assert "root folder is the **student**" in layout and "**teacher**" in layout
        snippet = loading_snippet("out", teacher_mode, peft)
        compile(snippet, "snippet", "exec")
        assert ('subfolder="vpd_teacher"' in snippet) == (teacher_mode == "adapter")


def test_full_weights_teacher_adapter_saves_and_its_snippet_reloads_it(tmp_path, tiny_model_dir, tiny_tokenizer):
    """A full-weights student's teacher adapter is saved in `vpd_teacher/` by `save_model`; the card's snippet loads
    the student from the root and the teacher onto the initial model, each computing what the trainer's did."""
    import torch
    from helpers import id_reward, make_config, make_dataset

    from trl_vpd import VPDTrainer

    trainer = VPDTrainer(model=str(tiny_model_dir), reward_funcs=id_reward, train_dataset=make_dataset(),
                         args=make_config(tmp_path / "run", teacher_mode="adapter", e_step=True, e_step_every=1,
                                          max_steps=2),
                         processing_class=tiny_tokenizer)  # fmt: skip
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    assert (tmp_path / "final" / "vpd_teacher" / "adapter_model.safetensors").exists()
    snippet = loading_snippet(str(tmp_path / "final"), "adapter", False, base=str(tiny_model_dir))
    scope = {}
    exec(snippet.replace("128", "4"), scope)  # noqa: S102 - the snippet a user would copy
    ids = torch.tensor([tiny_tokenizer("What is 1 + 2? The answer", add_special_tokens=False)["input_ids"]])
    with torch.no_grad(), trainer.teacher.activate(trainer.model) as teacher:
        torch.testing.assert_close(scope["teacher"](input_ids=ids).logits, teacher(input_ids=ids).logits)
        trainer.model.eval()
        torch.testing.assert_close(scope["model"](input_ids=ids).logits, trainer.model(input_ids=ids).logits)
        assert not torch.allclose(scope["teacher"](input_ids=ids).logits, trainer.model(input_ids=ids).logits)
