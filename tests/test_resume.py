"""Resume: N steps straight equals N/2 steps, a checkpoint, and N/2 more (adapters, teacher optimizer, controller)."""

import shutil

import pytest
import torch
from datasets import Dataset
from peft import LoraConfig

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def reward(completion_ids, **kwargs):
    return [float(sum(ids) % 3 == 0) for ids in completion_ids]


def feedback(rewards, **kwargs):
    return [None if r > 0 else "Wrong: the token sum must be divisible by 3." for r in rewards]


def _adapter_trainer(output_dir, modules_to_save=None, peft=True, **overrides):
    """A two-adapter (student + `vpd_teacher`) VPD trainer on the tiny model, an E-step every step (`peft=False`: a
    full-weights student, its teacher adapter on a frozen copy of the initial model)."""
    tokenizer = build_tiny_tokenizer()
    config = dict(output_dir=str(output_dir), per_device_train_batch_size=4, num_generations=4,
                  max_completion_length=6, max_steps=4, learning_rate=1e-2, report_to="none", save_strategy="no",
                  teacher_mode="adapter", e_step_every=1, seed=0)  # fmt: skip
    config.update(overrides)
    return VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=reward,
        args=VPDConfig(**config),
        train_dataset=Dataset.from_dict({"prompt": [f"Say {i}" for i in range(32)]}),
        processing_class=tokenizer,
        peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                               modules_to_save=modules_to_save) if peft else None,
        feedback_funcs=feedback,
    )


def _train(output_dir, resume_from=None, modules_to_save=None, peft=True, **overrides):
    trainer = _adapter_trainer(output_dir, modules_to_save, peft, save_strategy="steps", save_steps=2,
                               trust_region_target_kl=1e-4, **overrides)
    trainer.train(resume_from_checkpoint=resume_from)
    if overrides.get("distillation_gradient_ratio"):
        balance = trainer.distillation_balance
        trained = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
        return trained, (balance.grpo, balance.distill)
    if not peft:  # the full student and its teacher's adapter
        teacher = {f"teacher.{n}": p for n, p in trainer.teacher.module.named_parameters() if "lora_" in n}
        trained = {**dict(trainer.model.named_parameters()), **teacher}
        return {n: p.detach().clone() for n, p in trained.items()}, trainer.trust_region.controller.state_dict()
    adapters = {n: p.detach().clone() for n, p in trainer.model.named_parameters()
                if "lora_" in n or ".modules_to_save." in n}
    return adapters, trainer.trust_region.controller.state_dict()


def test_resume_matches_straight_run(tmp_path):
    straight, straight_state = _train(tmp_path / "run")
    assert straight_state["beta"] != 0.1, "the controller should have moved beta (target KL is tiny)"
    resumed, resumed_state = _train(tmp_path / "run", resume_from=str(tmp_path / "run" / "checkpoint-2"))
    assert any("vpd_teacher" in n for n in resumed)
    # Tolerance: CPU float32 with identical RNG state is bit-exact here; 1e-6 leaves room for kernel differences.
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, atol=1e-6, rtol=0)
    assert resumed_state == straight_state


def test_resume_full_weights_student_with_teacher_adapter(tmp_path):
    """A full-weights student's teacher adapter (on a frozen copy of the initial model) is saved with each
    checkpoint and restored on resume, with its optimizer: the resumed run ends where the straight one does."""
    straight, straight_state = _train(tmp_path / "run", peft=False)
    assert (tmp_path / "run" / "checkpoint-2" / "vpd_teacher" / "adapter_model.safetensors").exists()
    resumed, resumed_state = _train(tmp_path / "run", resume_from=str(tmp_path / "run" / "checkpoint-2"), peft=False)
    assert resumed.keys() == straight.keys() and any(n.startswith("teacher.") for n in straight)
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, atol=1e-6, rtol=0)
    assert resumed_state == straight_state
    # negative control: a fresh teacher adapter (as if the checkpoint had not kept it) ends elsewhere
    shutil.rmtree(tmp_path / "run" / "checkpoint-2" / "vpd_teacher")
    fresh, _ = _train(tmp_path / "run", resume_from=str(tmp_path / "run" / "checkpoint-2"), peft=False)
    assert max((fresh[n] - straight[n]).abs().max().item() for n in straight if n.startswith("teacher.")) > 1e-4


def test_resume_restores_the_teachers_modules_to_save_copy(tmp_path):
    """With LoRA `modules_to_save` the teacher adapter holds its own trained copy of the module (here the LM head);
    a resumed run restores that copy and its optimizer state as well as the LoRA weights."""
    straight, _ = _train(tmp_path / "run", modules_to_save=["lm_head"])
    teacher_copy = "base_model.model.lm_head.modules_to_save.vpd_teacher.weight"
    student_copy = teacher_copy.replace("vpd_teacher", "default")
    assert not torch.equal(straight[teacher_copy], straight[student_copy])  # both trained, apart
    resumed, _ = _train(tmp_path / "run", str(tmp_path / "run" / "checkpoint-2"), modules_to_save=["lm_head"])
    assert resumed.keys() == straight.keys()
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, atol=1e-6, rtol=0)


def test_resume_needs_the_teacher_optimizer_state(tmp_path):
    """Negative control: without the saved teacher optimizer the resumed run diverges, so the test above can fail."""
    straight, _ = _train(tmp_path / "run")
    (tmp_path / "run" / "checkpoint-2" / "vpd_teacher_optimizer.pt").unlink()
    resumed, _ = _train(tmp_path / "run", resume_from=str(tmp_path / "run" / "checkpoint-2"))
    assert max((resumed[n] - straight[n]).abs().max().item() for n in straight) > 1e-4


def test_save_model_writes_both_adapters_and_they_reload(tmp_path):
    from peft import PeftModel

    trainer = _adapter_trainer(tmp_path / "run", max_steps=1)
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    assert (tmp_path / "final" / "adapter_model.safetensors").exists()
    assert (tmp_path / "final" / "vpd_teacher" / "adapter_model.safetensors").exists()
    trainer.create_model_card()  # TRL's model card (also written with every checkpoint) cites the VPD paper
    assert "2605.15113" in (tmp_path / "run" / "README.md").read_text()

    reloaded = PeftModel.from_pretrained(build_tiny_model(build_tiny_tokenizer()), str(tmp_path / "final"))
    reloaded.load_adapter(str(tmp_path / "final" / "vpd_teacher"), adapter_name="vpd_teacher")
    trained = {n: p for n, p in trainer.model.named_parameters() if "lora_" in n}
    for name, param in reloaded.named_parameters():
        if "lora_" in name:
            torch.testing.assert_close(param, trained[name])


def test_resume_continues_the_gradient_balance(tmp_path):
    """`distillation_gradient_ratio`: the running means of the two gradient norms are checkpointed, so a resumed run
    takes the same coefficients and ends where the straight one does; without them it ends elsewhere."""
    balanced = {"peft": False, "distillation_gradient_ratio": 1.0}
    straight, straight_means = _train(tmp_path / "run", **balanced)
    assert all(straight_means)
    checkpoint = tmp_path / "run" / "checkpoint-2"
    resumed, resumed_means = _train(tmp_path / "run", resume_from=str(checkpoint), **balanced)
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, atol=1e-6, rtol=0)
    assert resumed_means == pytest.approx(straight_means, rel=1e-6)
    (checkpoint / "vpd_gradient_balance.json").unlink()  # negative control
    fresh, _ = _train(tmp_path / "run", resume_from=str(checkpoint), **balanced)
    assert max((fresh[n] - straight[n]).abs().max().item() for n in straight) > 1e-5
