"""Teacher repairs (`teacher_repairs`): which rollouts get one, how an attempt is scored and chosen, the student's loss
on it against a hand computation, where its gradient goes, and the errors on rollouts it cannot replay."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import logged, make_config, make_dataset, make_trainer, prepared_batch, student_fails_repair_succeeds

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.teacher_repair import first_successes, repair_nll, repair_rows, repair_tensors

# ---------------------------------------------------------------------------------------------------- pure helpers


def test_repair_rows_one_per_all_failed_group_on_this_process():
    # global rewards of 3 groups of 4; this process holds rows 2..9 (offset 2): groups 0 (rows 2-3), 1, 2 (rows 8-9)
    rewards = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, float("nan"), 0]
    has_context = [False, True, True, True, True, True, False, True]
    # group 0 failed everywhere: its first local row with context is local 1 (global 3); group 1 has a success;
    # group 2 has only a NaN (no reward) besides failures: all failed, first local row with context is local 7.
    assert repair_rows(has_context, rewards, offset=2, group_size=4, threshold=0.5) == [1, 7]
    assert repair_rows([False] * 8, rewards, offset=2, group_size=4, threshold=0.5) == []


def test_first_success_of_each_row_is_kept():
    chosen = first_successes([3, 3, 5, 5], [[1], [2], [3], [4]], [False, True, True, True])
    assert chosen == {3: [2], 5: [3]}


def test_repair_tensors_and_nll_against_hand_computation():
    ids, mask = repair_tensors({1: [7, 8, 9], 2: [4]}, num_rows=3, pad_token_id=0, device="cpu")
    assert ids.tolist() == [[0, 0, 0], [7, 8, 9], [4, 0, 0]]
    assert mask.tolist() == [[0, 0, 0], [1, 1, 1], [1, 0, 0]]
    logps = torch.tensor([[-5.0, -5.0, -5.0], [-1.0, -2.0, -3.0], [-0.5, -9.0, -9.0]])
    # rows: 0 (none), mean(1, 2, 3) = 2, 0.5; averaged over the 3 rows
    assert repair_nll(logps, mask).item() == pytest.approx((0 + 2 + 0.5) / 3)
    assert repair_tensors({}, 2, 0, "cpu")[1].shape == (2, 1)


# ---------------------------------------------------------------------------------------------------- in the trainer


class StudentFailsRepairSucceeds:
    """Every student rollout fails (the batch of 4), every repair succeeds (the repair call's rows); records calls."""

    def __init__(self):
        self.calls = []
        self.__name__ = "student_fails"

    def __call__(self, prompts, completions, completion_ids, **kwargs):
        self.calls.append(dict(prompts=prompts, completion_ids=completion_ids, hint=kwargs.get("hint")))
        return student_fails_repair_succeeds(completions)


def repair_trainer(tmp_path, tokenizer, reward, **overrides):
    options = dict(teacher_mode="frozen", e_step=False, teacher_repairs=2)
    return make_trainer(tmp_path, tokenizer, reward_funcs=reward, **{**options, **overrides})


def test_all_failed_group_gets_its_first_successful_repair(tmp_path, tiny_tokenizer):
    reward = StudentFailsRepairSucceeds()
    trainer = repair_trainer(tmp_path, tiny_tokenizer, reward)
    batch = prepared_batch(trainer)
    student_call, repair_call = reward.calls
    # the two attempts were scored with row 0's prompt and dataset columns (the first row with a context)
    assert repair_call["prompts"] == [student_call["prompts"][0]] * 2
    assert repair_call["hint"] == [student_call["hint"][0]] * 2
    mask = batch["vpd_repair_mask"]
    first = repair_call["completion_ids"][0]
    assert mask.sum(1).tolist() == [len(first), 0, 0, 0]
    assert batch["vpd_repair_ids"][0, : len(first)].tolist() == first
    metrics = trainer._metrics["train"]
    assert (metrics["vpd/repair_attempts"], metrics["vpd/repaired_groups"]) == ([2.0], [1.0])
    assert metrics["vpd/repair_success_rate"] == [1.0]


def test_chat_prompts_get_repairs_as_assistant_messages(tmp_path, tiny_tokenizer):
    """With conversational prompts the reward functions see each repair as TRL formats a completion: one assistant
    message whose content is the decoded attempt."""
    seen = []

    def reward(prompts, completions, completion_ids, **kwargs):
        seen.append((completions, completion_ids))
        return student_fails_repair_succeeds(completions)

    trainer = repair_trainer(tmp_path, tiny_tokenizer, reward, dataset=make_dataset(conversational=True))
    prepared_batch(trainer)
    completions, ids = seen[1]
    text = tiny_tokenizer.decode(ids[0], skip_special_tokens=True)
    assert completions[0] == [{"role": "assistant", "content": text}]


def test_group_with_a_success_gets_no_repair(tmp_path, tiny_tokenizer):
    trainer = repair_trainer(tmp_path, tiny_tokenizer, lambda completions, **kw: [1.0] * len(completions))
    batch = prepared_batch(trainer)
    assert "vpd_repair_ids" not in batch
    assert "vpd/repair_attempts" not in trainer._metrics["train"]


def test_failed_repairs_leave_the_batch_without_a_target(tmp_path, tiny_tokenizer):
    trainer = repair_trainer(tmp_path, tiny_tokenizer, lambda completions, **kw: [0.0] * len(completions))
    batch = prepared_batch(trainer)
    assert batch["vpd_repair_mask"].sum().item() == 0  # the keys are there (another rank may have a repair)
    assert trainer._metrics["train"]["vpd/repair_success_rate"] == [0.0]


@pytest.mark.parametrize("mask_truncated", [False, True])
def test_truncated_repair_is_dropped_under_mask_truncated_completions(tmp_path, tiny_tokenizer, mask_truncated):
    reward = StudentFailsRepairSucceeds()
    trainer = repair_trainer(tmp_path, tiny_tokenizer, reward, mask_truncated_completions=mask_truncated)
    eos = trainer.eos_token_ids[0]
    trainer._teacher_generate = lambda prompt_ids, filler: ([[5, 6, 7], [8, eos]], [True, False])
    batch = prepared_batch(trainer)
    kept = [8, eos] if mask_truncated else [5, 6, 7]
    assert batch["vpd_repair_ids"][0, : len(kept)].tolist() == kept
    assert batch["vpd_repair_mask"][0].sum().item() == len(kept)


def test_repair_term_adds_weighted_nll_to_the_loss(tmp_path, tiny_tokenizer):
    """loss(with repair) − loss(without) = weight · mean over rows of the repair's mean token NLL under the student's
    own prompt (temperature-scaled, as GRPO's log-probs), computed here from the model's logits."""
    trainer = repair_trainer(tmp_path, tiny_tokenizer, StudentFailsRepairSucceeds(), teacher_repair_weight=0.7)
    batch = prepared_batch(trainer)
    model = trainer.model
    with torch.no_grad():
        with_repair = trainer.compute_loss(model, batch).item()
        without = {k: v for k, v in batch.items() if not k.startswith("vpd_repair")}
        plain = trainer.compute_loss(model, without).item()
        prompt = batch["prompt_ids"][0][batch["prompt_mask"][0].bool()]
        repair = batch["vpd_repair_ids"][0][batch["vpd_repair_mask"][0].bool()]
        ids = torch.cat([prompt, repair]).unsqueeze(0)
        logits = model(input_ids=ids, use_cache=False).logits[0, len(prompt) - 1 : -1] / trainer.temperature
        nll = -torch.log_softmax(logits.float(), -1).gather(-1, repair.unsqueeze(1)).mean().item()
    assert with_repair - plain == pytest.approx(0.7 * nll / 4, rel=1e-4)
    assert nll > 1.0  # an untrained model: a real, non-trivial term


def test_repair_gradient_reaches_the_student_adapter_only(tmp_path, tiny_tokenizer):
    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=True, teacher_mode="adapter", teacher_repairs=1,
                           reward_funcs=StudentFailsRepairSucceeds())  # fmt: skip
    batch = prepared_batch(trainer)
    assert batch["vpd_repair_mask"].sum() > 0
    trainer.model.zero_grad(set_to_none=True)
    trainer._repair_loss(trainer.model, batch).backward()
    with_grad = {n for n, p in trainer.model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_grad and all("lora" in n and "vpd_teacher" not in n for n in with_grad)


def test_trains_and_logs_the_repair_metrics(tmp_path, tiny_model_dir):
    trainer = VPDTrainer(model=str(tiny_model_dir), reward_funcs=StudentFailsRepairSucceeds(),
                         train_dataset=make_dataset(), args=make_config(tmp_path, teacher_repairs=1))  # fmt: skip
    trainer.train()
    assert logged(trainer, "vpd/repaired_groups") == [1.0, 1.0]
    assert all(math.isfinite(v) and v > 0 for v in logged(trainer, "vpd/repair_loss"))


def test_refuses_bad_values():
    with pytest.raises(ValueError, match="teacher_repairs"):
        VPDConfig(output_dir="unused", teacher_repairs=-1)
    with pytest.raises(ValueError, match="teacher_repair_weight"):
        VPDConfig(output_dir="unused", teacher_repairs=1, teacher_repair_weight=-0.5)


def test_sampling_settings_without_grpo_generation_config(tmp_path, tiny_tokenizer):
    """Under vLLM GRPO builds no `generation_config`; the repairs then sample with the trainer's own settings."""
    trainer = repair_trainer(tmp_path, tiny_tokenizer, StudentFailsRepairSucceeds(), temperature=0.7, top_p=0.9)
    assert trainer._repair_config() is trainer.generation_config  # TRL's, on its transformers path
    del trainer.generation_config
    config = trainer._repair_config()
    assert (config.do_sample, config.temperature, config.top_p) == (True, 0.7, 0.9)
    assert config.max_new_tokens == trainer.max_completion_length
    assert list(config.eos_token_id) == list(trainer.eos_token_ids)


@pytest.mark.parametrize("engine", ["fsdp", "zero3_without_gather"])
def test_refuses_engines_whose_generation_forwards_are_collective(engine):
    from types import SimpleNamespace

    from trl_vpd.teacher_repair import TeacherRepairMixin

    args = SimpleNamespace(teacher_repairs=1, ds3_gather_for_generation=False)
    trainer = SimpleNamespace(args=args, tools=None, environment_factories=None, rollout_func=None,
                              is_fsdp_enabled=engine == "fsdp", _dist=SimpleNamespace(is_zero3=engine != "fsdp"))  # fmt: skip
    error = NotImplementedError if engine == "fsdp" else ValueError
    with pytest.raises(error, match="FSDP" if engine == "fsdp" else "ds3_gather_for_generation=True"):
        TeacherRepairMixin._check_teacher_repairs(trainer)
    args.ds3_gather_for_generation = True
    if engine != "fsdp":
        TeacherRepairMixin._check_teacher_repairs(trainer)  # gathered generation is fine
