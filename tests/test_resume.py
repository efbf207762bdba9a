"""Resume: N steps straight equals N/2 steps, a checkpoint, and N/2 more (adapters, teacher optimizer, controller)."""

import torch
from datasets import Dataset
from peft import LoraConfig

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer


def reward(completion_ids, **kwargs):
    return [float(sum(ids) % 3 == 0) for ids in completion_ids]


def feedback(rewards, **kwargs):
    return [None if r > 0 else "Wrong: the token sum must be divisible by 3." for r in rewards]


def _adapter_trainer(output_dir, modules_to_save=None, **overrides):
    """A two-adapter (student + `vpd_teacher`) VPD trainer on the tiny model, an E-step every step."""
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
                               modules_to_save=modules_to_save),
        feedback_funcs=feedback,
    )


def _train(output_dir, resume_from=None, modules_to_save=None):
    trainer = _adapter_trainer(output_dir, modules_to_save, save_strategy="steps", save_steps=2,
                               trust_region_target_kl=1e-4)
    trainer.train(resume_from_checkpoint=resume_from)
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
