"""Teacher repairs (`teacher_repairs > 0`, our extension beyond the paper): where every rollout of a group failed, the
feedback-conditioned teacher samples new attempts from a failed rollout's context; one that the reward functions score
as a success becomes a supervised target for the student under the student's own prompt.

In the variational view the M-step for a fixed teacher q maximises E_q[log π_θ(y|x)]; VPD's default M-step estimates
it on the student's rollouts (on-policy token distillation), which carries little where the student's attempts are far
off. Sampling y from q and keeping it where it succeeds is the same M-step estimated off-policy (the successful part of
q), and gives GRPO's all-failed groups a success to learn from.

A mixin of `VPDTrainer`: generation, scoring and the loss take the same collectives on every process whatever its
data (one count gather per generation batch; where any process has an attempt, under ZeRO-3 the gathered, synced
generation, then GRPO's reward gather on equally padded rows and a totals gather; the loss's forward on every
micro-batch that carries the keys).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from accelerate.utils import gather_object
from transformers import GenerationConfig
from trl.models import unwrap_model_for_generation
from trl.trainer.utils import pad

from .dropout import dropout_disabled
from .utils import decoded_completions


def repair_rows(
    has_context: Sequence[bool], rewards_global: Sequence[float], offset: int, group_size: int, threshold: float
) -> list[int]:
    """Local rows whose teacher context is sampled: on this process, the first row with a context of each group in
    which no rollout reached `threshold` (a group straddling processes gets one on each)."""
    rows, seen = [], set()
    for i, context in enumerate(has_context):
        group = (offset + i) // group_size
        if not context or group in seen:
            continue
        members = rewards_global[group * group_size : (group + 1) * group_size]
        if not any(r >= threshold for r in members):  # NaN (no reward) is not a success
            rows.append(i)
            seen.add(group)
    return rows


def first_successes(attempt_rows: Sequence[int], sequences: Sequence[list[int]], ok: Sequence[bool]) -> dict:
    """{row: token ids of its first successful attempt}."""
    chosen = {}
    for row, ids, good in zip(attempt_rows, sequences, ok, strict=True):
        if good and row not in chosen:
            chosen[row] = ids
    return chosen


def repair_tensors(chosen: dict, num_rows: int, pad_token_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (ids, mask) of shape (num_rows, longest repair), all-zero mask on rows without a repair."""
    length = max((len(ids) for ids in chosen.values()), default=1)
    ids = torch.full((num_rows, length), pad_token_id, dtype=torch.long, device=device)
    mask = torch.zeros((num_rows, length), dtype=torch.long, device=device)
    for row, seq in chosen.items():
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long, device=device)
        mask[row, : len(seq)] = 1
    return ids, mask


def repair_nll(logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over rows of each repair's mean token negative log-likelihood (rows without one count as zero)."""
    mask = mask.to(logps.dtype)
    per_row = -(logps * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return per_row.sum() / max(len(per_row), 1)


class TeacherRepairMixin:
    """Teacher-repair methods of `VPDTrainer` (see the module docstring)."""

    def _check_teacher_repairs(self) -> None:
        if not self.args.teacher_repairs:
            return
        if self.tools or self.environment_factories is not None or self.rollout_func is not None:
            raise ValueError(
                "teacher_repairs > 0 samples one turn from the teacher and scores it with the reward functions; "
                "rollouts with tools, an environment_factory or a rollout_func are episodes it cannot replay. Set "
                "teacher_repairs=0."
            )
        if self.is_fsdp_enabled:
            raise NotImplementedError(
                "teacher_repairs > 0 is not supported under FSDP (each process generates a different number of "
                "repairs, and FSDP's generation forwards are collective). Use DeepSpeed or DDP, or teacher_repairs=0."
            )
        if self._dist.is_zero3 and not self.args.ds3_gather_for_generation:
            raise ValueError(
                "teacher_repairs > 0 under ZeRO-3 needs ds3_gather_for_generation=True: each process generates a "
                "different number of repairs, which partitioned (collective) forwards cannot take."
            )

    def _add_teacher_repairs(self, output, inputs, contexts, pending, group_size) -> None:
        """`vpd_repair_ids` / `vpd_repair_mask` in `output` (on every process, or on none) when any process had an
        all-failed group; the first successful repair of each such group on its process's row."""
        args = self.args
        rows = repair_rows(
            contexts.has_context, pending["rewards"].tolist(), pending["offset"], group_size, args.success_reward_threshold
        )
        attempts = [row for row in rows for _ in range(args.teacher_repairs)]
        width = max(gather_object([len(attempts)]))
        if width == 0:
            return
        prompts = [contexts.prompt_ids[row] for row in attempts]
        sequences, truncated = self._teacher_generate(prompts, filler=contexts.prompt_ids[0])
        ok = self._score_repairs(inputs, pending, output, attempts, sequences, width)
        if args.mask_truncated_completions:
            ok = [good and not cut for good, cut in zip(ok, truncated, strict=True)]
        chosen = first_successes(attempts, sequences, ok)
        device = self.accelerator.device
        ids, mask = repair_tensors(chosen, len(pending["prompts"]), self._tokenizer.pad_token_id, device)
        output["vpd_repair_ids"], output["vpd_repair_mask"] = ids, mask
        totals = torch.tensor(gather_object([(len(attempts), sum(ok), len(chosen))]), dtype=torch.float32).sum(0)
        metrics = self._metrics["train"]
        metrics["vpd/repair_attempts"].append(totals[0].item())
        metrics["vpd/repaired_groups"].append(totals[2].item())
        if totals[0] > 0:
            metrics["vpd/repair_success_rate"].append((totals[1] / totals[0]).item())

    def _teacher_generate(self, prompt_ids: list[list[int]], filler: list[int]) -> tuple[list[list[int]], list[bool]]:
        """Sampled teacher completions (cut after the first EOS, which they keep) and whether each ran out of tokens.
        Under ZeRO-3 entering the generation unwrap and every forward are collectives (DeepSpeed's start-of-forward
        hook outlives TRL's `remove_hooks`), so there every process generates, `filler` where it has nothing to, with
        `synced_gpus` keeping the ranks' forward counts equal."""
        synced = self._dist.is_zero3 and self.accelerator.num_processes > 1
        if not prompt_ids and not synced:
            return [], []
        tokenizer = self._tokenizer
        device = self.accelerator.device
        rows = prompt_ids or [filler]
        ids = pad([torch.tensor(p, device=device) for p in rows], tokenizer.pad_token_id, "left")
        mask = pad([torch.ones(len(p), dtype=torch.long, device=device) for p in rows], 0, "left")
        with (
            unwrap_model_for_generation(
                self.model_wrapped,
                self.accelerator,
                gather_deepspeed3_params=self.args.ds3_gather_for_generation,
                gradient_checkpointing_kwargs=self.args.gradient_checkpointing_kwargs,
            ) as unwrapped,
            torch.no_grad(),
            self.teacher.activate(unwrapped) as teacher,
            dropout_disabled(teacher),
        ):
            generated = teacher.generate(
                input_ids=ids, attention_mask=mask, generation_config=self._repair_config(), synced_gpus=synced
            )
        if not prompt_ids:  # the filler's
            return [], []
        eos = set(self.eos_token_ids)
        sequences, truncated = [], []
        for row in generated[:, ids.size(1) :].tolist():
            cut = next((k for k, t in enumerate(row) if t in eos), None)
            sequences.append(row if cut is None else row[: cut + 1])
            truncated.append(cut is None)
        return sequences, truncated

    def _repair_config(self) -> GenerationConfig:
        """GRPO's sampling configuration (its transformers path); under vLLM, one with the same sampling fields."""
        config = getattr(self, "generation_config", None)
        if config is not None:
            return config
        return GenerationConfig(
            max_new_tokens=self.max_completion_length,
            do_sample=True,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            pad_token_id=self._tokenizer.pad_token_id,
            eos_token_id=self.eos_token_ids,
        )

    def _score_repairs(self, inputs, pending, output, attempts, sequences, width) -> list[bool]:
        """Whether each attempt reached `success_reward_threshold`, by GRPO's own reward call on `width` rows per
        process (its gather needs equal sizes): the attempts repeated, or this process's first rollout where it has
        none. Columns the reward functions log for these rows are dropped (they are not rollouts)."""
        if attempts:
            rows = [attempts[k % len(attempts)] for k in range(width)]
            ids = [sequences[k % len(attempts)] for k in range(width)]
            completions = decoded_completions(self._tokenizer, ids, pending["prompts"][0])
        else:
            own = output["completion_ids"][0][output["completion_mask"][0].bool()].tolist()
            rows, ids, completions = [0] * width, [own] * width, [pending["completions"][0]] * width
        logs, metrics = copy.deepcopy(self._pending_extra_logs), copy.deepcopy(self._pending_metrics)
        try:
            per_func = super()._calculate_rewards(
                [inputs[r] for r in rows], [pending["prompts"][r] for r in rows], completions, ids
            )
        finally:
            self._pending_extra_logs, self._pending_metrics = logs, metrics
        start = self.accelerator.process_index * width
        rewards = self._weighted_rewards(per_func[start : start + len(attempts)])
        return (rewards >= self.args.success_reward_threshold).tolist()  # NaN (no reward) is not a success

    def _repair_loss(self, model, inputs) -> torch.Tensor:
        """The student's mean token negative log-likelihood of the micro-batch's repairs under its own prompts."""
        repair_ids, repair_mask = inputs["vpd_repair_ids"], inputs["vpd_repair_mask"]
        ids = torch.cat([inputs["prompt_ids"], repair_ids], dim=1)
        mask = torch.cat([inputs["prompt_mask"], repair_mask], dim=1)
        logps = super()._get_per_token_logps_and_entropies(model, ids, mask, repair_ids.size(1))[0]
        return repair_nll(logps, repair_mask)
