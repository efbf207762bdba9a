"""GRPO features a user brings to VPDTrainer: the E-step decision per optimizer step under generation buffering, the
E-step's rollouts (teacher context, tool_mask, masked truncations), the distillation mix with β > 0, dropout in the
teacher's forwards, and a feature matrix that trains each combination and checks what must hold."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import (
    changed,
    id_reward,
    logged,
    make_dataset,
    make_trainer,
    optimizer_param_ids,
    prepared_batch,
    snapshot,
    student_fails_repair_succeeds,
)

from trl_vpd import VPDConfig, e_step_runner
from trl_vpd.dropout import dropout_disabled
from trl_vpd.e_step_plan import chunk_rows, e_step_rows, is_e_step, served_steps
from trl_vpd.losses import e_step_loss


def _steps_with(trainer, key) -> list[bool]:
    """Per optimizer step (logging_steps=1), whether metric `key` was logged."""
    return [key in entry for entry in trainer.state.log_history if "loss" in entry]


# ------------------------------------------------------------------ the schedule


def test_e_step_schedule_and_served_steps_are_pure_arithmetic():
    assert [is_e_step(s, enabled=True, warmup=2, every=3) for s in range(8)] == [
        False, False, True, False, False, True, False, False,
    ]  # fmt: skip
    assert not is_e_step(0, enabled=False, warmup=0, every=1)
    # a generation at micro-step 0 with steps_per_generation 2 × num_iterations 3 and GA 2 feeds 3 optimizer steps
    assert served_steps(10, 0, 2, 3, 2) == range(10, 13)
    assert served_steps(10, 4, 2, 3, 2) == range(10, 11)  # regenerated mid-cycle (resume): what is left of it
    assert chunk_rows(8, 10, 40, None, one_pass=False) == 2  # auto: 8·10 student tokens / 40 per teacher row
    assert chunk_rows(8, 10, 40, 3, one_pass=False) == 3 and chunk_rows(8, 10, 40, 0, one_pass=False) == 8
    assert chunk_rows(8, 10, 40, None, one_pass=True) == 8


@pytest.mark.parametrize("buffering", [dict(num_iterations=2), dict(steps_per_generation=2)])
def test_e_step_runs_per_optimizer_step_under_generation_buffering(tmp_path, tiny_tokenizer, buffering):
    """One generation feeds two optimizer steps; with e_step_every=2 the E-step must run on steps 0 and 2 only (it used
    to be decided once per generation and reused for every buffered step: every step an E-step)."""
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, peft=True, teacher_mode="adapter", e_step_every=2, max_steps=4, **buffering
    )
    updates = []
    original = trainer._teacher_optimizer_step
    trainer._teacher_optimizer_step = lambda: (updates.append(trainer.state.global_step), original())[1]
    trainer.train()
    assert _steps_with(trainer, "vpd/e_loss") == [True, False, True, False]
    assert updates == [0, 2]


# ------------------------------------------------------------------ which rollouts the E-step learns from


def test_e_step_rows_need_context_and_trained_tokens():
    has_context = torch.tensor([1.0, 0.0, 1.0, 1.0])
    mask = torch.tensor([[1, 1], [1, 1], [0, 0], [1, 0]], dtype=torch.float32)
    assert e_step_rows(has_context, mask).tolist() == [True, False, False, True]


def test_e_step_loss_ignores_rows_outside_the_selection():
    """Unselected rollouts are unlabelled and unmeasured: the loss and every statistic equal those of the selected
    rollouts alone."""
    torch.manual_seed(0)
    teacher, ref = torch.randn(4, 3), torch.randn(4, 3)
    mask = torch.ones(4, 3)
    advantages = torch.tensor([1.0, -1.0, 1.0, -1.0])
    rows = torch.tensor([True, True, False, False])
    kwargs = dict(beta=0.5, delta=0.1, negatives=True)
    loss, stats = e_step_loss("sigmoid", teacher_token_logps=teacher, ref_token_logps=ref, mask=mask,
                              advantages=advantages, rows=rows, **kwargs)  # fmt: skip
    alone, alone_stats = e_step_loss("sigmoid", teacher_token_logps=teacher[:2], ref_token_logps=ref[:2],
                                     mask=mask[:2], advantages=advantages[:2], **kwargs)  # fmt: skip
    assert loss.item() == pytest.approx(alone.item(), rel=1e-6)
    for key in ("h_pos", "h_neg", "kl", "num_labelled", "kl_sum", "kl_tokens", "num_pos", "num_neg"):
        assert stats[key] == pytest.approx(alone_stats[key], rel=1e-6), key
    assert stats["kl_tokens"] == 6 and stats["num_labelled"] == 2


def _grads(model, loss):
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_shared_teacher_without_context_gives_no_e_step_gradient(tmp_path, tiny_tokenizer):
    """A shared teacher whose prompt carries nothing is the student: h = 0 with the gradient of log π, an unclipped
    REINFORCE term. Without context anywhere, the E-step must leave GRPO's gradient exactly as it is."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", feedback_column=None,
                           use_sibling_solutions=False, dataset=make_dataset(feedback_column=None))  # fmt: skip
    inputs = prepared_batch(trainer)
    assert inputs["vpd_has_context"].sum() == 0 and inputs["advantages"].abs().sum() > 0
    with_e = _grads(trainer.model, trainer.compute_loss(trainer.model, inputs))
    assert trainer._metrics["train"]["vpd/e_step_no_signal"][-1] == 1.0
    assert "vpd/kl_e" not in trainer._metrics["train"]  # nothing measured: no KL_E = 0 dragging the trust region
    trainer.args.e_step = False
    without_e = _grads(trainer.model, trainer.compute_loss(trainer.model, inputs))
    assert set(with_e) == set(without_e)
    for name, grad in with_e.items():
        torch.testing.assert_close(grad, without_e[name], rtol=0, atol=0, msg=name)


def test_e_step_uses_tool_mask_and_skips_masked_truncations(tmp_path, tiny_tokenizer, monkeypatch):
    """Tool-output tokens (tool_mask 0) never enter h or KL_E, and a rollout whose completion is fully masked (a
    truncation under mask_truncated_completions) is not labelled."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=True, teacher_mode="adapter", e_step_negatives=True)
    inputs = prepared_batch(trainer)
    tool_mask = torch.ones_like(inputs["completion_mask"])
    tool_mask[:, 2:5] = 0
    inputs["tool_mask"] = tool_mask
    inputs["completion_mask"][0] = 0
    seen = {}
    original = e_step_runner.e_step_loss

    def spy(name, **kwargs):
        seen.update(kwargs)
        return original(name, **kwargs)

    monkeypatch.setattr(e_step_runner, "e_step_loss", spy)
    trainer._e_step(trainer.model, inputs)
    expected = inputs["completion_mask"].float() * tool_mask
    torch.testing.assert_close(seen["mask"], expected)
    assert seen["rows"].tolist() == [False, True, True, True]
    _, stats = original("sigmoid", **{k: v for k, v in seen.items()})
    assert stats["kl_tokens"] == expected[1:].sum().item()
    assert stats["num_labelled"] <= 3


# ------------------------------------------------------------------ the distillation mix with β > 0


def test_distillation_mix_keeps_grpo_kl_penalty_at_full_strength(tmp_path, tiny_tokenizer):
    """distillation_weight=1 on rollouts that all have context removes GRPO's policy term, not its β·KL to the
    reference: the GRPO part of the loss is then exactly β·KL(π‖π_ref), computed here by hand (loss_type grpo)."""
    beta = 0.04
    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=True, teacher_mode="shared", e_step=False,
                           distillation_weight=1.0, distillation_mode="sampled", beta=beta, loss_type="grpo")  # fmt: skip
    inputs = prepared_batch(trainer)
    assert inputs["vpd_has_context"].tolist() == [1.0] * 4
    # move the student away from its reference (adapters off) so that the KL is not zero
    with torch.no_grad():
        for name, param in trainer.model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.3)
    distills = []
    original = trainer._distillation

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        distills.append(out[0].detach())
        return out

    trainer._distillation = spy
    loss = trainer._compute_loss(trainer.model, inputs)
    student = trainer._completion_logps(trainer.model, inputs)
    ref = inputs["ref_per_token_logps"]
    mask = inputs["completion_mask"].float()
    per_token_kl = torch.exp(ref - student) - (ref - student) - 1
    expected_kl = ((per_token_kl * mask).sum(-1) / mask.sum(-1).clamp(min=1)).mean()
    assert expected_kl.item() > 1e-4
    grpo_part = loss.detach() - distills[0]
    assert grpo_part.item() == pytest.approx(beta * expected_kl.item(), rel=1e-4, abs=1e-7)


# ------------------------------------------------------------------ teacher forwards without dropout


def test_dropout_disabled_makes_a_train_mode_forward_deterministic(tiny_model):
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        tiny_model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.5, target_modules=["q_proj", "v_proj"])
    )
    peft_model.train()
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    dropouts = [m for m in peft_model.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts and all(m.training for m in dropouts)
    ids = torch.randint(0, 50, (2, 6))
    with torch.no_grad():
        noisy = [peft_model(input_ids=ids).logits for _ in range(2)]
        with dropout_disabled(peft_model):
            assert not any(m.training for m in dropouts) and peft_model.training
            clean = [peft_model(input_ids=ids).logits for _ in range(2)]
    assert all(m.training for m in dropouts)  # restored
    torch.testing.assert_close(clean[0], clean[1], rtol=0, atol=0)
    assert not torch.equal(noisy[0], noisy[1])


# ------------------------------------------------------------------ teacher–student KL estimate


def test_teacher_student_kl_is_never_negative(tmp_path, tiny_tokenizer):
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", distillation_mode="sampled", max_steps=3)
    trainer.train()
    values = logged(trainer, "vpd/teacher_student_kl")
    assert len(values) == 3 and all(v >= 0 for v in values)


# ------------------------------------------------------------------ the feature matrix

MATRIX = [
    # (teacher_mode, peft, GRPO options, optimizer steps that must run the E-step)
    ("shared", False, dict(num_iterations=2, loss_type="grpo"), [True, False, True]),
    ("shared", True, dict(steps_per_generation=2, loss_type="dr_grpo", beta=0.04), [True, False, True]),
    ("shared", False, dict(beta=0.04, loss_type="dapo", gradient_accumulation_steps=2, per_device_train_batch_size=2),
     [True, False, True]),
    ("adapter", True, dict(num_iterations=2, loss_type="dapo", beta=0.04), [True, False, True]),
    ("adapter", True, dict(steps_per_generation=2, loss_type="grpo", em_schedule="sequential"), [True, False, True]),
    ("adapter", True, dict(loss_type="dr_grpo", em_schedule="alternate"), [True, False, True]),
    # the E-step scored under the feedback alone, GRPO's term kept whole, crossed with buffered rollouts
    ("shared", False, dict(num_iterations=2, loss_type="grpo", e_step_solutions=False, distillation_mixing="add"),
     [True, False, True]),
    ("adapter", True, dict(steps_per_generation=2, loss_type="dapo", beta=0.04, e_step_solutions=False,
                           e_step_pairing="self"), [True, False, True]),
    # the E-step's contexts mixed (critique alone / the M-step's), crossed with reused rollouts, β > 0, chunked passes
    ("adapter", True, dict(num_iterations=2, loss_type="grpo", beta=0.04, e_step_solutions=False,
                           e_step_mixed_contexts=True, e_step_chunk_size=1), [True, False, True]),
    ("adapter", False, dict(steps_per_generation=2, loss_type="dr_grpo", e_step_mixed_contexts=True,
                            mask_truncated_completions=True), [True, False, True]),
    # the E-step's context detached (key/value cache), crossed with reused rollouts, DAPO/Dr. GRPO, β > 0, both teachers
    ("shared", True, dict(num_iterations=2, loss_type="dapo", beta=0.04, e_step_detach_context=True,
                          gradient_checkpointing=False), [True, False, True]),
    ("adapter", True, dict(steps_per_generation=2, loss_type="dr_grpo", e_step_detach_context=True,
                           gradient_checkpointing=False, e_step_chunk_size=2), [True, False, True]),
    # teacher repairs crossed with reused rollouts, β > 0, masked truncations, split generation batches, both teachers
    ("shared", False, dict(num_iterations=2, loss_type="grpo", beta=0.04, mask_truncated_completions=True,
                           teacher_repairs=2), [True, False, True]),
    ("adapter", True, dict(steps_per_generation=2, loss_type="dr_grpo", gradient_accumulation_steps=2,
                           per_device_train_batch_size=2, teacher_repairs=1), [True, False, True]),
    # a full-weights student's teacher adapter (on a copy of the initial model), crossed with reused rollouts, β > 0,
    # masked truncations, split batches and each E/M schedule
    ("adapter", False, dict(num_iterations=2, loss_type="dapo", beta=0.04, mask_truncated_completions=True),
     [True, False, True]),
    ("adapter", False, dict(steps_per_generation=2, loss_type="dr_grpo", gradient_accumulation_steps=2,
                            per_device_train_batch_size=2, em_schedule="sequential"), [True, False, True]),
    ("adapter", False, dict(loss_type="grpo", em_schedule="alternate", teacher_repairs=1), [True, False, True]),
    # GRPO's reference model synced toward the student (TR-DPO), the E-step's reference the student
    ("shared", False, dict(beta=0.04, sync_ref_model=True, ref_model_sync_steps=1, ref_model_mixup_alpha=0.5),
     [True, False, True]),
    # GRPO's token selection and regularisers: off-policy sequence masking, the top-entropy tokens, entropy bonuses,
    # batch-scaled and per-function-normalized rewards
    ("adapter", True, dict(num_iterations=2, off_policy_mask_threshold=0.5, top_entropy_quantile=0.2,
                           entropy_coef=0.01), [True, False, True]),
    ("shared", False, dict(scale_rewards="batch", multi_objective_aggregation="normalize_then_sum",
                           use_adaptive_entropy=True), [True, False, True]),
    # the loss types beyond GRPO/DAPO/Dr. GRPO (each policy term linear in the advantages: test_trainer.py)
    ("shared", False, dict(num_iterations=2, loss_type="cispo", beta=0.04), [True, False, True]),
    ("adapter", True, dict(steps_per_generation=2, loss_type="luspo", importance_sampling_level="sequence"),
     [True, False, True]),
    ("adapter", False, dict(loss_type="vespo", e_step_mixed_contexts=True), [True, False, True]),
    ("shared", True, dict(loss_type="sapo", gradient_accumulation_steps=2, per_device_train_batch_size=2),
     [True, False, True]),
    # the distillation's coefficient from the gradient balance, crossed with LoRA, reused rollouts, β > 0, split
    # batches, masked truncations and other loss types
    ("adapter", True, dict(num_iterations=2, loss_type="grpo", beta=0.04, distillation_gradient_ratio=1.0),
     [True, False, True]),
    ("adapter", False, dict(steps_per_generation=2, loss_type="dr_grpo", gradient_accumulation_steps=2,
                            per_device_train_batch_size=2, mask_truncated_completions=True,
                            distillation_gradient_ratio=0.5), [True, False, True]),
    ("shared", False, dict(loss_type="cispo", distillation_mode="full", distillation_gradient_ratio=2.0,
                           distillation_gradient_window=2), [True, False, True]),
    # a full-weights student's default balance (capped), calibrated after one micro-batch and then no longer read,
    # with reused rollouts and β > 0 (the teacher adapter on GRPO's reference model)
    ("adapter", False, dict(num_iterations=2, beta=0.04, distillation_gradient_window=1), [True, False, True]),
    ("frozen", True, dict(num_iterations=2, beta=0.04, loss_type="grpo"), [False, False, False]),
    ("frozen", False, dict(steps_per_generation=2, loss_type="dapo"), [False, False, False]),
]


@pytest.mark.parametrize("teacher_mode, peft, options, e_steps", MATRIX)
def test_feature_matrix_trains_what_it_should(
    tmp_path, tiny_tokenizer, tiny_model_dir, teacher_mode, peft, options, e_steps
):
    """Each combination trains three optimizer steps: finite losses, the E-step on the scheduled steps only, the
    student's trainable weights move, a teacher adapter moves only through its own optimizer, and nothing frozen
    moves."""
    # a model id, so that GRPO can load its reference model for β > 0 without PEFT
    # with repairs, every rollout fails and every repair succeeds (the repair call's rows are not a batch of 4)
    reward = student_fails_repair_succeeds if options.get("teacher_repairs") else id_reward
    trainer = make_trainer(tmp_path, tiny_tokenizer, model=None if peft else str(tiny_model_dir), peft=peft,
                           teacher_mode=teacher_mode, max_steps=3, e_step_every=2, e_step_negatives=True,
                           reward_funcs=reward, **options)  # fmt: skip
    named = dict(trainer.model.named_parameters())
    before = snapshot(named.items())
    teacher_before = [p.detach().clone() for p in trainer.teacher.parameters()]
    trainer.train()
    moved = changed(before, trainer.model.named_parameters())
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    assert _steps_with(trainer, "vpd/e_loss") == e_steps
    trainable = {n for n, p in named.items() if p.requires_grad}
    teacher = {n for n in trainable if ".vpd_teacher." in n}
    student = trainable - teacher
    assert moved <= trainable, sorted(moved - trainable)[:5]  # frozen base weights never move
    assert moved & student, "the student did not train"
    if teacher_mode == "adapter" and not options.get("teacher_repairs"):  # (every rollout failing labels none)
        teacher_moved = [not torch.equal(p, q) for p, q in zip(trainer.teacher.parameters(), teacher_before)]
        assert any(teacher_moved), "the teacher adapter did not train on its E-steps"
        assert not peft or {n for n in teacher if n in moved}, "a PEFT teacher adapter lives on the student's model"
    if options.get("teacher_repairs"):
        assert _steps_with(trainer, "vpd/repair_loss") == [True, True, True]
    if trainer.distillation_balance is not None:  # a coefficient on every step that distilled, finite and positive
        assert _steps_with(trainer, "vpd/distill_coefficient") == _steps_with(trainer, "vpd/distill_loss")
        coefficients = [e[key] for e in trainer.state.log_history if (key := "vpd/distill_coefficient") in e]
        assert coefficients and all(math.isfinite(c) and c > 0 for c in coefficients)
        if trainer.args.distillation_gradient_capped:
            assert max(coefficients) <= trainer.args.distillation_weight


# ------------------------------------------------------------------ off-policy tokens in the sampled M-step


def test_sampled_m_step_reweights_reused_rollouts_by_the_capped_ratio(tmp_path, tiny_tokenizer):
    """With rollouts reused (num_iterations > 1) each token's sampled-distillation term is weighted by π_θ/π_old
    (detached, capped at 2); on-policy the weight is 1."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", e_step=False, distillation_mode="sampled",
                           num_iterations=2)  # fmt: skip
    inputs = prepared_batch(trainer)
    student = trainer._completion_logps(trainer.model, inputs)
    assert trainer._sampling_correction({}, student) == 1.0
    old = student - torch.tensor([0.0, 1.0, -0.1, -3.0]).unsqueeze(1)  # ratio e¹ is capped at 2
    weight = trainer._sampling_correction({"old_per_token_logps": old}, student.requires_grad_(True))
    assert not weight.requires_grad
    torch.testing.assert_close(weight[:, 0], torch.tensor([1.0, 2.0, math.exp(-0.1), math.exp(-3.0)]))


def test_group_pairing_falls_back_to_self_when_groups_straddle_processes(tmp_path, tiny_tokenizer, caplog):
    """With several processes a group can straddle two of them (a per-process generation batch of 2, groups of 4):
    the E-step then pairs each rollout with its own context and says so once, instead of refusing a valid GRPO
    setting; whole groups pair within the group."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", e_step_pairing="group")
    has_context, rewards = [True, False], [0.0, 1.0]
    with caplog.at_level("WARNING", logger="trl_vpd.trainer"):
        assert trainer._group_owners(has_context, rewards, group_size=4, offset=2) is None
        assert trainer._group_owners(has_context, rewards, group_size=4, offset=0) is None
    assert len([r for r in caplog.records if "whole groups" in r.getMessage()]) == 1
    assert trainer._group_owners([True, False, False, True], [0.0, 1.0, 1.0, 0.0], group_size=4, offset=4) == [0] * 4


@pytest.mark.parametrize("pairing", ["self", "group"])
def test_e_step_without_solutions_scores_under_feedback_alone(tmp_path, tiny_tokenizer, pairing):
    """`e_step_solutions=False`: the M-step's teacher prompts keep the successful sibling's solution, the E-step's
    carry none; rollouts whose only context was a demonstration (successes without feedback) leave the E-step, and
    with group pairing a group's first failed rollout with feedback conditions all of it."""

    def feedback_on_failures(completions, rewards=None, **kwargs):
        return [None if r >= 0.5 else "wrong, try again" for r in rewards]

    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", e_step_pairing=pairing,
                           feedback_column=None, feedback_funcs=[feedback_on_failures], e_step_solutions=False)
    inputs = prepared_batch(trainer)
    decode = lambda ids: tiny_tokenizer.decode(ids, skip_special_tokens=True)  # noqa: E731
    rewards = inputs["vpd_rewards"].tolist()
    failed = [i for i, r in enumerate(rewards) if r < 0.5]
    assert failed and len(failed) < len(rewards), rewards  # a mixed group: siblings exist
    m_step = [decode(ids) for ids in inputs["teacher_input_ids"]]
    e_step = [decode(ids) for ids in inputs["vpd_e_teacher_input_ids"]]
    assert all("A correct solution" in m_step[i] for i in failed)
    assert not any("A correct solution" in text for text in e_step)
    expected = [float(r < 0.5) for r in rewards]
    if pairing == "group":  # every rollout is scored under the first failure's feedback
        assert inputs["vpd_e_has_context"].tolist() == [1.0] * len(rewards)
        owner = e_step[failed[0]].split("Using this")[0]
        assert all(text.startswith(owner) for text in e_step)
    else:
        assert inputs["vpd_e_has_context"].tolist() == expected
    assert inputs["vpd_has_context"].tolist() == [1.0] * len(rewards)  # the M-step: demonstration or feedback


@pytest.mark.parametrize("pairing", ["self", "group"])
def test_mixed_e_step_contexts_alternate_critique_alone_and_the_m_steps(tmp_path, tiny_tokenizer, pairing):
    """`e_step_mixed_contexts=True`: even rollouts of the generation batch are scored under the critique alone, odd
    ones in the M-step's context (the critique beside a successful sibling's solution); group pairing takes the
    group's critic in either kind, and the swapped-feedback contexts follow the same rows."""

    def feedback_on_failures(completions, rewards=None, **kwargs):
        return [None if r >= 0.5 else "wrong, try again" for r in rewards]

    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", e_step_pairing=pairing,
                           feedback_column=None, feedback_funcs=[feedback_on_failures], e_step_solutions=False,
                           e_step_mixed_contexts=True, feedback_only_without_solution=False,
                           e_step_swapped_feedback=1.0)  # fmt: skip
    inputs = prepared_batch(trainer)
    width = inputs["completion_ids"].size(1)

    def prompt(key, row):
        ids, mask = inputs[f"{key}_input_ids"][row, :-width], inputs[f"{key}_attention_mask"][row, :-width]
        return tiny_tokenizer.decode(ids[mask.bool()], skip_special_tokens=True)

    rewards = inputs["vpd_rewards"].tolist()
    failed = [i for i, r in enumerate(rewards) if r < 0.5]
    assert failed and len(failed) < len(rewards), rewards  # a mixed group: siblings exist
    owner = failed[0] if pairing == "group" else None
    for row in range(len(rewards)):
        text, own = prompt("vpd_e_teacher", row), row if owner is None else owner
        if row % 2:  # the M-step's context (its critic's, with group pairing)
            assert text == prompt("teacher", own)
            assert "A correct solution" in text and ("wrong, try again" in text) == (own in failed)
        else:
            assert "A correct solution" not in text and ("wrong, try again" in text) == (own in failed)
        swapped = prompt("vpd_s_teacher", row)
        assert ("A correct solution" in swapped) == bool(row % 2)
    expected = [1.0 if row % 2 else float((row if owner is None else owner) in failed) for row in range(len(rewards))]
    assert inputs["vpd_e_has_context"].tolist() == expected
    assert inputs["vpd_has_context"].tolist() == [1.0] * len(rewards)  # the M-step's contexts are untouched


def test_mixed_e_step_contexts_need_the_critique_alone_contexts(tmp_path):
    with pytest.raises(ValueError, match="e_step_solutions=False"):
        VPDConfig(output_dir=str(tmp_path), teacher_mode="shared", e_step_mixed_contexts=True)
    with pytest.raises(ValueError, match="use_sibling_solutions"):
        VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_mixed_contexts=True,
                  use_sibling_solutions=False)  # fmt: skip
    assert VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_mixed_contexts=True).e_step_solutions is False


@pytest.mark.parametrize("peft", [False, True])
def test_default_teacher_context_shows_a_critique_only_where_no_sibling_succeeded(tmp_path, tiny_tokenizer, peft):
    """Under the shared teacher's default a failed rollout with a successful sibling is shown the sibling's solution
    without its critique, and one whose whole group failed its critique; the teacher adapter's default shows both."""

    def feedback_on_failures(completions, rewards=None, **kwargs):
        return [None if r >= 0.5 else "wrong, try again" for r in rewards]

    def odd_prompts_fail(completion_ids, idx, **kwargs):  # groups of odd prompts fail whole
        return [0.0 if i % 2 else r for i, r in zip(idx, id_reward(completion_ids), strict=True)]

    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=peft, feedback_column=None, reward_funcs=odd_prompts_fail,
                           feedback_funcs=[feedback_on_failures], per_device_train_batch_size=16)  # fmt: skip
    inputs = prepared_batch(trainer)
    texts = [tiny_tokenizer.decode(ids, skip_special_tokens=True) for ids in inputs["teacher_input_ids"]]
    failed = [r < 0.5 for r in inputs["vpd_rewards"].tolist()]
    shown = [("A correct solution" in t, "wrong, try again" in t) for t in texts]
    assert any(f and s for f, (s, _) in zip(failed, shown, strict=True))  # a failure beside a success
    assert any(f and not s for f, (s, _) in zip(failed, shown, strict=True))  # a failure in a failed group
    for fail, (solution, critique) in zip(failed, shown, strict=True):
        assert critique == (fail and (peft or not solution)), (fail, solution, critique)


def test_e_step_solutions_default_follows_the_teacher_mode(tmp_path, tiny_tokenizer):
    """`e_step_solutions=None` resolves to False for a teacher adapter (its E-step scores critiques alone while the
    M-step keeps the demonstrations) and True for the other teachers; an explicit value wins."""
    assert VPDConfig(output_dir=str(tmp_path), teacher_mode="shared").e_step_solutions is True
    assert VPDConfig(output_dir=str(tmp_path), teacher_mode="frozen", e_step=False).e_step_solutions is True
    assert VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_solutions=True).e_step_solutions is True

    def feedback_on_failures(completions, rewards=None, **kwargs):
        return [None if r >= 0.5 else "wrong, try again" for r in rewards]

    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="adapter", peft=True, feedback_column=None,
                           feedback_funcs=[feedback_on_failures])
    assert trainer.args.e_step_solutions is False
    inputs = prepared_batch(trainer)
    decode = lambda ids: tiny_tokenizer.decode(ids, skip_special_tokens=True)  # noqa: E731
    failed = [i for i, r in enumerate(inputs["vpd_rewards"].tolist()) if r < 0.5]
    assert failed and len(failed) < len(inputs["vpd_rewards"])
    assert all("A correct solution" in decode(inputs["teacher_input_ids"][i]) for i in failed)
    assert not any("A correct solution" in decode(ids) for ids in inputs["vpd_e_teacher_input_ids"])


def test_teacher_mode_default_resolves_from_the_model(tmp_path):
    """`teacher_mode=None` waits for the trainer: a teacher adapter on one process or DDP (a PEFT student's second
    LoRA, or a LoRA on a frozen copy for a full-weights student with an E-step), the shared weights on a sharded engine
    or for a full-weights student without an E-step; the fields derived from the mode follow it, explicit values win,
    and a reused config is resolved again from its original Nones."""
    args = VPDConfig(output_dir=str(tmp_path))
    assert (args.teacher_mode, args.e_step_solutions, args.e_step_reference) == (None, None, None)
    assert args.feedback_only_without_solution is None
    args.resolve_teacher_mode(peft=True, sharded=False)
    assert (args.teacher_mode, args.e_step_solutions, args.e_step_reference) == ("adapter", False, "initial_teacher")
    assert args.feedback_only_without_solution is False
    assert args.e_step_mixed_contexts is False
    args.resolve_teacher_mode(peft=False, sharded=False)
    assert (args.teacher_mode, args.e_step_solutions, args.e_step_reference) == ("adapter", False, "initial_teacher")
    assert (args.feedback_only_without_solution, args.e_step_mixed_contexts) == (True, True)
    both = VPDConfig(output_dir=str(tmp_path), feedback_only_without_solution=False)
    both.resolve_teacher_mode(peft=False, sharded=False)
    assert both.feedback_only_without_solution is False
    args.resolve_teacher_mode(peft=False, sharded=True)
    assert (args.teacher_mode, args.e_step_solutions, args.e_step_reference) == ("shared", True, "student")
    assert (args.feedback_only_without_solution, args.e_step_mixed_contexts) == (True, False)
    args.resolve_teacher_mode(peft=True, sharded=True)
    assert args.teacher_mode == "shared"
    without_e_step = VPDConfig(output_dir=str(tmp_path), e_step=False)
    without_e_step.resolve_teacher_mode(peft=False, sharded=False)  # no teacher to train: no copy of the model
    assert without_e_step.teacher_mode == "shared"
    explicit = VPDConfig(output_dir=str(tmp_path), teacher_mode="shared")
    explicit.resolve_teacher_mode(peft=True, sharded=False)
    assert (explicit.teacher_mode, explicit.e_step_reference) == ("shared", "student")
    kept = VPDConfig(output_dir=str(tmp_path), e_step_reference="student", e_step_solutions=True)
    kept.resolve_teacher_mode(peft=True, sharded=False)
    assert (kept.teacher_mode, kept.e_step_solutions, kept.e_step_reference) == ("adapter", True, "student")
    passive = VPDConfig(output_dir=str(tmp_path))
    passive.teacher_mode, passive.e_step = "ema", False  # as `trl-vpd train --trainer sdpo-passive` does
    passive.resolve_teacher_mode(peft=True, sharded=False)
    assert (passive.teacher_mode, passive.e_step_reference) == ("ema", "student")
    switched = VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter")
    switched.teacher_mode = "shared"
    switched.resolve_teacher_mode(peft=True, sharded=False)
    assert (switched.teacher_mode, switched.e_step_solutions, switched.e_step_reference) == ("shared", True, "student")
    sequential = VPDConfig(output_dir=str(tmp_path), em_schedule="sequential")
    sequential.resolve_teacher_mode(peft=True, sharded=False)
    sequential.resolve_teacher_mode(peft=False, sharded=False)  # the full-weights student's teacher adapter
    with pytest.raises(ValueError, match="sequential.*with PEFT"):
        sequential.resolve_teacher_mode(peft=False, sharded=True)
    with pytest.raises(ValueError, match="sequential"):
        VPDConfig(output_dir=str(tmp_path), em_schedule="sequential", teacher_mode="shared")


def test_full_weights_teacher_adapter_defaults_to_mixed_e_step_contexts(tmp_path, tiny_tokenizer):
    """A full-weights student's teacher adapter (a LoRA on a frozen copy) scores both context kinds in its E-step and
    shows the critique only where no sibling succeeded; a PEFT student's adapter keeps critiques alone and critiques
    beside the demonstrations. The config cannot tell the two apart before the trainer does: it resolves as a PEFT
    student's, then again. Explicit values win; without demonstrations to mix there is nothing to mix."""
    args = VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter")
    assert (args.e_step_mixed_contexts, args.feedback_only_without_solution) == (False, False)
    args.resolve_teacher_mode(peft=False, sharded=False)
    assert (args.e_step_solutions, args.e_step_mixed_contexts, args.feedback_only_without_solution) == (
        False, True, True)  # fmt: skip
    args.resolve_teacher_mode(peft=True, sharded=False)  # the same config given to a PEFT student
    assert (args.e_step_mixed_contexts, args.feedback_only_without_solution) == (False, False)
    kept = VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_mixed_contexts=False,
                     feedback_only_without_solution=False)  # fmt: skip
    kept.resolve_teacher_mode(peft=False, sharded=False)
    assert (kept.e_step_mixed_contexts, kept.feedback_only_without_solution) == (False, False)
    for nothing_to_mix in ({"e_step_solutions": True}, {"use_sibling_solutions": False}):
        plain = VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", **nothing_to_mix)
        plain.resolve_teacher_mode(peft=False, sharded=False)  # no error: the default simply stays off
        assert plain.e_step_mixed_contexts is False
    for peft in (False, True):  # as the trainer resolves it
        trainer = make_trainer(tmp_path / str(peft), tiny_tokenizer, teacher_mode="adapter", peft=peft)
        assert (trainer.args.e_step_mixed_contexts, trainer.args.feedback_only_without_solution) == (not peft,) * 2


def test_swapped_feedback_without_critiques_in_the_e_step_is_warned(tmp_path, caplog):
    """Under the shared teacher's default contexts the E-step's successes see a solution and no critique, so the
    swapped-feedback term would be inert: said once the mode is known, and not when critiques are shown."""
    with caplog.at_level("WARNING", logger="trl_vpd.config"):
        args = VPDConfig(output_dir=str(tmp_path), teacher_mode="shared", e_step_swapped_feedback=1.0)
        assert len([r for r in caplog.records if "nothing to swap" in r.getMessage()]) == 1
        args.resolve_teacher_mode(peft=False, sharded=False)  # as the trainer does: not said again
        assert len([r for r in caplog.records if "nothing to swap" in r.getMessage()]) == 1
        caplog.clear()
        VPDConfig(output_dir=str(tmp_path), teacher_mode="shared", e_step_swapped_feedback=1.0,
                  feedback_only_without_solution=False)  # fmt: skip
        VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_swapped_feedback=1.0)
    assert not [r for r in caplog.records if "nothing to swap" in r.getMessage()]


@pytest.mark.parametrize("peft", [True, False])
def test_trainer_resolves_the_default_teacher(tmp_path, tiny_tokenizer, peft):
    """Without `teacher_mode` every student gets a trained teacher adapter (its own weights, its own optimizer): a
    PEFT student's is a second LoRA on its own base, a full-weights student's a LoRA on a frozen copy of the initial
    model, leaving the student's parameters alone; the first E-step trains it."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, peft=peft, max_steps=1)
    assert trainer.args.teacher_mode == "adapter"
    in_student = {n: p for n, p in trainer.model.named_parameters() if ".vpd_teacher." in n}
    assert bool(in_student) == peft
    teacher = dict(enumerate(trainer.teacher.parameters()))
    assert teacher and (not peft or {id(p) for p in teacher.values()} == {id(p) for p in in_student.values()})
    student_ids = {id(p) for n, p in trainer.model.named_parameters() if ".vpd_teacher." not in n}
    assert not student_ids & {id(p) for p in teacher.values()}
    before = snapshot(teacher.items())
    trainer.train()
    assert _steps_with(trainer, "vpd/e_loss") == [True]
    assert changed(before, teacher.items()), "the teacher adapter did not train"
    assert optimizer_param_ids(trainer.teacher_optimizer) == {id(p) for p in teacher.values()}


def test_e_step_with_solutions_adds_no_keys_under_self_pairing(tmp_path, tiny_tokenizer):
    """The default (`e_step_solutions=True`) with self pairing scores the M-step's own contexts: no second set."""
    trainer = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="shared", e_step_pairing="self")
    assert "vpd_e_teacher_input_ids" not in prepared_batch(trainer)


@pytest.mark.parametrize("reference", ["initial_teacher", "frozen"])
def test_initial_weights_reference_refuses_a_synced_grpo_reference_model(tmp_path, tiny_tokenizer, tiny_model_dir,
                                                                         reference):
    """A shared teacher's `initial_teacher`/`frozen` reference reads GRPO's reference model, which `sync_ref_model`
    moves toward the student: refused with the ways out, instead of a reference that silently stops being initial."""
    with pytest.raises(ValueError, match="sync_ref_model=False"):
        make_trainer(tmp_path, tiny_tokenizer, model=str(tiny_model_dir), teacher_mode="shared", beta=0.04,
                     e_step_reference=reference, sync_ref_model=True)  # fmt: skip
    trainer = make_trainer(tmp_path, tiny_tokenizer, model=str(tiny_model_dir), teacher_mode="shared", beta=0.04,
                           e_step_reference=reference)  # fmt: skip
    assert trainer.ref_model is not None


def test_model_card_names_the_e_steps_contexts(tmp_path, tiny_tokenizer):
    """The card's E-step row says which contexts it scored: critiques alone, every other rollout on its critique alone
    (mixed), or nothing extra where they are the M-step's."""
    from trl_vpd.model_card import training_settings

    def e_step_row(**overrides):
        trainer = make_trainer(tmp_path, tiny_tokenizer, peft=True, teacher_mode="adapter", **overrides)
        return dict(training_settings(trainer))["E-step (teacher update)"]

    assert "every other rollout on its critique alone" in e_step_row(e_step_mixed_contexts=True)
    alone = e_step_row()
    assert "on critiques alone" in alone and "every other" not in alone
    assert "critique" not in e_step_row(e_step_solutions=True)
