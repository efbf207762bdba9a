"""`VPDTrainer`: GRPO whose student also distills a feedback-conditioned teacher, and whose teacher is trained on
trajectory outcomes (variational EM)."""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext

import torch
from accelerate.utils import gather_object
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from trl import GRPOTrainer
from trl.trainer.utils import get_config_model_id, pad

from .config import VPDConfig
from .context_cache import detached_context_logps, supports_detached_context
from .dropout import dropout_disabled
from .e_step_monitor import EStepMonitor
from .e_step_plan import EStepPlan, served_steps
from .e_step_runner import EStepMixin, trained_tokens
from .feedback import call_feedback_funcs
from .gradient_balance import GRADIENT_BALANCE_FILE, GradientBalance, hidden_gradient_norms
from .hidden_states import capture_final_hidden, completion_hidden, output_head
from .losses import head_divergence, masked_mean, per_token_distillation
from .no_signal import NoSignalCallback
from .teacher import build_teacher, shares_grpo_reference
from .teacher_context import TeacherContextBuilder, combine_feedback, group_pairing, swapped_feedback
from .teacher_repair import TeacherRepairMixin
from .trust_region import TrustRegionCallback, TrustRegionController
from .utils import is_peft_model


SAMPLED_IS_CAP = 2.0  # SDPO's importance-sampling clip


logger = logging.getLogger(__name__)


class VPDNumericalError(RuntimeError):
    """A VPD loss became NaN or infinite; training stops before the weights are updated with it."""


class VPDTrainer(TeacherRepairMixin, EStepMixin, GRPOTrainer):
    """
    Trainer for Variational Policy Distillation (VPD, Li, Nijkamp, Yavuz, Joty, arXiv 2605.15113).

    Environments often return language feedback (a failing test, a verifier's note, a correct sibling) besides the
    scalar reward. VPD conditions a *teacher* on that feedback and alternates two steps: the E-step trains the teacher
    on which rollouts earned reward (an unpaired-preference loss inside a trust region around the current student),
    and the M-step distills the teacher's next-token distribution into the student on the student's own rollouts.

    A drop-in replacement for [`~trl.GRPOTrainer`]: same constructor plus `feedback_funcs`, same generation, reward
    plumbing and GRPO loss. What changes: `_calculate_rewards` also collects feedback, `_generate_and_score_completions`
    adds the teacher context to the batch (and, with `teacher_repairs`, the teacher's successful attempts at groups
    that all failed), `_compute_loss` adds the distillation (for a shared teacher the E-loss, with repairs their
    likelihood), and `training_step` runs the E-step of a separate teacher adapter.

    Args:
        feedback_funcs (`callable` or `list[callable]`, *optional*):
            Functions with the reward-function signature that return one `str | None` per completion (None = no
            feedback for that sample). Combined with `args.feedback_column` and sibling solutions.
        teacher_peft_config (`peft.LoraConfig`, *optional*):
            With `teacher_mode="adapter"` and a full-weights student (no `peft_config`), the LoRA of the teacher
            adapter, which sits on a frozen copy of the initial model. None: rank 16, alpha 32, every linear layer.
        Other arguments: as [`~trl.GRPOTrainer`].
    """

    _tag_names = ["trl", "vpd"]
    _name = "VPD"
    _paper = {
        "title": "Learning from Language Feedback via Variational Policy Distillation",
        "id": "2605.15113",
        "citation": (
            "@article{li2026vpd,\n  title={Learning from Language Feedback via Variational Policy Distillation},\n"
            "  author={Li and Nijkamp and Yavuz and Joty},\n  journal={arXiv preprint arXiv:2605.15113},\n"
            "  year={2026}\n}"
        ),
    }

    def __init__(
        self,
        model,
        reward_funcs=None,
        args: VPDConfig | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        reward_processing_classes=None,
        callbacks=None,
        optimizers=(None, None),
        quantization_config=None,
        peft_config=None,
        tools=None,
        rollout_func=None,
        environment_factory=None,
        *,
        feedback_funcs=None,
        teacher_peft_config=None,
    ):
        if args is None:
            name = model if isinstance(model, str) else get_config_model_id(model.config)
            args = VPDConfig(f"{name.split('/')[-1]}-VPD")
        if not isinstance(args, VPDConfig):
            raise TypeError(f"VPDTrainer needs a VPDConfig, got {type(args).__name__}.")
        _check_feedback_column(args.feedback_column, train_dataset, eval_dataset)
        if feedback_funcs is None:
            feedback_funcs = []
        elif callable(feedback_funcs):
            feedback_funcs = [feedback_funcs]
        self.feedback_funcs = list(feedback_funcs)
        for func in self.feedback_funcs:
            if not callable(func):
                raise TypeError(f"feedback_funcs must be callables, got {type(func).__name__}.")
        model_copy = _initial_copy(model, args, peft_config)

        super().__init__(
            model,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            reward_processing_classes=reward_processing_classes,
            callbacks=callbacks,
            optimizers=optimizers,
            quantization_config=quantization_config,
            peft_config=peft_config,
            tools=tools,
            rollout_func=rollout_func,
            environment_factory=environment_factory,
        )

        self.teacher = build_teacher(self, model_copy, teacher_peft_config)  # resolves `teacher_mode=None` first
        initial = args.e_step_reference in ("frozen", "initial_teacher") and args.teacher_mode != "adapter"
        if args.e_step and initial and not is_peft_model(self.model) and self.ref_model is None:
            raise ValueError(
                f"e_step_reference={args.e_step_reference!r} needs the initial weights: train with PEFT (adapters "
                "disabled) or set beta > 0 so that GRPO keeps a reference model."
            )
        if args.e_step and initial and self.ref_model is not None and args.sync_ref_model:
            raise ValueError(
                f"e_step_reference={args.e_step_reference!r} reads the initial weights from GRPO's reference model, "
                "which sync_ref_model=True moves toward the student every ref_model_sync_steps: set "
                "sync_ref_model=False, e_step_reference='student', or teacher_mode='adapter' (its own frozen copy)."
            )
        if args.e_step_chunk_size and args.teacher_mode == "shared" and (self.is_deepspeed_enabled or self.is_fsdp_enabled):
            raise ValueError(
                "e_step_chunk_size > 0 with teacher_mode='shared' needs several backward passes per micro-batch, which "
                "DeepSpeed and FSDP engines do not take; leave it None (one pass there) or use DDP."
            )
        if args.distillation_mode != "sampled":
            output_head(self.model)  # an LM head the chunked M-step cannot reproduce fails here, not at step 1
        if self._is_vlm:
            raise NotImplementedError(
                "VPDTrainer does not support vision-language models yet: the teacher and reference forwards pass only "
                "token ids (no pixel_values or image grid), so the teacher would score an image question without its "
                "image. Train a text-only model, or pass its tokenizer (not a processor) as processing_class for "
                "text-only data."
            )
        self._check_teacher_repairs()
        for func in self.feedback_funcs:
            if hasattr(func, "bind_trainer"):
                func.bind_trainer(self)
        for callback in self.teacher.callbacks():
            self.add_callback(callback)
        tokenizer = getattr(self.processing_class, "tokenizer", self.processing_class)
        self.context_builder = TeacherContextBuilder(tokenizer, args, tokenize=self._tokenize_sample_prompts)
        self.trust_region = TrustRegionCallback(
            TrustRegionController(
                beta=args.e_step_beta,
                target_kl=args.trust_region_target_kl,
                rate=args.trust_region_rate,
                max_change=args.trust_region_max_change,
                beta_min=args.trust_region_beta_min,
                beta_max=args.trust_region_beta_max,
                skip_factor=args.trust_region_skip_factor,
            )
        )
        self.add_callback(self.trust_region)
        self.add_callback(NoSignalCallback(args.success_reward_threshold))
        self.e_step_monitor = EStepMonitor(args.e_step_loss, _strengthen_hint(args, self.teacher))
        self.teacher_optimizer = None
        self._vpd_capture = None
        self._vpd_pending = None
        self.distillation_balance = (
            None
            if not args.distillation_gradient_ratio
            else GradientBalance(
                args.distillation_gradient_ratio,
                fallback=args.distillation_weight,
                window=args.distillation_gradient_window,
                cap=args.distillation_weight if args.distillation_gradient_capped else None,
            )
        )
        # (teacher_input_ids, log-probs, hidden states, head) of the last E-step forward, reused by the M-step
        self._vpd_teacher_forward = None
        self._plan = EStepPlan(run=False, rows=0, chunk_rows=0)
        self._teacher_had_grad = False
        self._warned_group_pairing = False
        self._warned_detached_context = False

    # ------------------------------------------------------------------ optimizers

    def create_optimizer(self, model=None):
        """The student's optimizer never holds the teacher adapter; the teacher gets its own AdamW."""
        teacher_params = self.teacher.parameters()
        for param in teacher_params:
            param.requires_grad_(False)
        try:
            optimizer = super().create_optimizer(model)
        finally:
            for param in teacher_params:
                param.requires_grad_(True)
        if teacher_params and self.teacher_optimizer is None:
            self.teacher_optimizer = torch.optim.AdamW(
                teacher_params,
                lr=self._teacher_lr(),
                betas=(self.args.adam_beta1, self.args.adam_beta2),
                eps=self.args.adam_epsilon,
                weight_decay=self.args.weight_decay,
            )
        return optimizer

    def _teacher_lr(self) -> float:
        base = self.args.teacher_learning_rate or self.teacher.learning_rate_scale * self.args.learning_rate
        if self.lr_scheduler is None or not self.args.learning_rate:
            return base
        return base * self.lr_scheduler.get_last_lr()[0] / self.args.learning_rate

    # ------------------------------------------------------------------ feedback and teacher context

    def _tokenize_sample_prompts(self, prompts: list, samples: list[int]) -> list[list[int]]:
        """GRPO's `_tokenize_prompts` for prompts written for local samples `samples` of the current batch (a teacher
        context, a critique request): each rendered with the tool schema its sample's student prompt had. Under
        `environment_factory` GRPO reads the schema off `_batch_environments`, one environment per prompt given."""
        if self.environment_factories is None:
            return self._tokenize_prompts(prompts)[0]
        batch_environments = self._batch_environments
        self._batch_environments = [batch_environments[i] for i in samples]
        try:
            return self._tokenize_prompts(prompts)[0]
        finally:
            self._batch_environments = batch_environments

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        rewards = self._weighted_rewards(rewards_per_func)
        offset = self.accelerator.process_index * len(prompts)
        local_rewards = rewards[offset : offset + len(prompts)]

        sources = []
        if self.args.feedback_column is not None:
            sources.append([example.get(self.args.feedback_column) for example in inputs])
        if self.feedback_funcs:
            keys = [k for k in inputs[0] if k not in ("prompt", "completion", "completion_ids")]
            kwargs = {k: [example[k] for example in inputs] for k in keys}
            kwargs.update(trainer_state=self.state, rewards=local_rewards.tolist())
            sources.extend(call_feedback_funcs(self.feedback_funcs, prompts, completions, completion_ids_list, kwargs))
        feedback, empty = combine_feedback(sources, len(prompts))
        self._vpd_pending = {
            "prompts": prompts,
            "completions": completions,
            "feedback": feedback,
            "empty_feedback": empty,
            "rewards": rewards,
            "offset": offset,
        }
        if self.log_completions:
            self._log_completion_extra("feedback", [fb or "" for fb in feedback])
        return rewards_per_func

    def _weighted_rewards(self, rewards_per_func: torch.Tensor) -> torch.Tensor:
        """GRPO's reward per completion (the reward functions' weighted sum), NaN where every function returned None."""
        rewards = (rewards_per_func * self.reward_weights.to(rewards_per_func.device).unsqueeze(0)).nansum(dim=1)
        rewards[torch.isnan(rewards_per_func).all(dim=1)] = torch.nan
        return rewards

    def _generate_and_score_completions(self, inputs):
        with self.teacher.grpo_reference():
            output = super()._generate_and_score_completions(inputs)
        pending, self._vpd_pending = self._vpd_pending, None
        mode = "train" if self.model.training else "eval"
        device = self.accelerator.device
        group_size = self.num_generations if mode == "train" else self.num_generations_eval
        completions_global = gather_object(pending["completions"])
        empty = pending["empty_feedback"]
        contexts = self._build_contexts(pending, completions_global, group_size, empty_feedback=empty)
        teacher_prompt, teacher_mask = self._pad_prompts(contexts.prompt_ids)
        output["teacher_input_ids"] = torch.cat([teacher_prompt, output["completion_ids"]], dim=1)
        output["teacher_attention_mask"] = torch.cat([teacher_mask, output["completion_mask"]], dim=1)
        output["vpd_has_context"] = torch.tensor(contexts.has_context, dtype=torch.float32, device=device)
        local = pending["rewards"][pending["offset"] : pending["offset"] + len(pending["prompts"])]
        output["vpd_rewards"] = local.to(device)
        self._log_context_metrics(mode, contexts.stats)
        if mode == "train" and self.args.teacher_repairs:
            self._add_teacher_repairs(output, inputs, contexts, pending, group_size)

        if mode == "train" and self.args.e_step and self.teacher.trainable:
            padded = (teacher_prompt, teacher_mask)
            self._add_e_step_contexts(output, contexts, padded, pending, completions_global, group_size)
            if self.args.em_schedule == "sequential" and any(map(self._is_e_step, self._served_steps())):
                self._sequential_e_step(output)
        return output

    def _build_contexts(self, pending, completions_global, group_size, **options):
        """The teacher contexts of this process's samples of the generation batch (`TeacherContextBuilder.build`)."""
        return self.context_builder.build(
            prompts=pending["prompts"],
            completions_global=completions_global,
            rewards_global=pending["rewards"].tolist(),
            feedback=pending["feedback"],
            offset=pending["offset"],
            group_size=group_size,
            **options,
        )

    def _add_e_step_contexts(self, output, contexts, padded, pending, completions_global, group_size) -> None:
        """The teacher contexts the E-step scores (`vpd_e_*` keys), where they differ from the M-step's (`contexts`,
        `padded`): group pairing (a failed sibling's context for the whole group) and/or `e_step_solutions=False` (no
        demonstrations; with `e_step_mixed_contexts`, on every other rollout only)."""
        sets = self._e_step_context_sets(pending, completions_global, group_size, m_step=contexts)
        rows = self._e_step_context_rows(sets, output["vpd_rewards"].tolist(), group_size, pending["offset"])
        if self.args.e_step_swapped_feedback:
            self._add_swapped_contexts(output, pending, completions_global, group_size, rows)
        if rows is None:
            return
        if len(sets) == 1 and sets[0] is contexts:  # the M-step's, already padded
            prompt, mask = padded
            has_context = output["vpd_has_context"]
        else:
            prompt, mask, has_context = self._stack_context_sets(sets)
        output["vpd_e_teacher_input_ids"] = torch.cat([prompt[rows], output["completion_ids"]], 1)
        output["vpd_e_teacher_attention_mask"] = torch.cat([mask[rows], output["completion_mask"]], 1)
        output["vpd_e_has_context"] = has_context[rows]

    def _e_step_context_sets(self, pending, completions_global, group_size, m_step=None) -> list:
        """The kinds of teacher context the E-step scores, each for every local rollout: the M-step's (`m_step`, or
        built), the critique alone (`e_step_solutions=False`), or both, critique first (`e_step_mixed_contexts`)."""
        if not self.args.e_step_drops_solutions:
            return [m_step if m_step is not None else self._build_contexts(pending, completions_global, group_size)]
        alone = self._build_contexts(pending, completions_global, group_size, use_siblings=False)
        if not self.args.e_step_mixed_contexts:
            return [alone]
        with_solutions = m_step if m_step is not None else self._build_contexts(pending, completions_global, group_size)
        return [alone, with_solutions]

    def _e_step_context_rows(self, sets, rewards, group_size, offset) -> torch.Tensor | None:
        """Per local rollout, its E-step context as a row of the context sets stacked (`_stack_context_sets`): with
        two sets the rollouts alternate between them by their index in the generation batch (the same on every
        process), and group pairing picks the row of the group's critic in that set. None when the E-step scores each
        rollout in its own M-step context (no second set of keys)."""
        count = len(sets[0].has_context)
        kinds = [(offset + i) % len(sets) for i in range(count)]
        owners = [list(range(count))] * len(sets)
        if self.args.e_step_pairing == "group":
            grouped = [self._group_owners(s.has_context, rewards, group_size, offset) for s in sets]
            owners = [o if g is None else g for o, g in zip(owners, grouped, strict=True)]
            if grouped[0] is None and not self.args.e_step_drops_solutions:
                return None
        elif not self.args.e_step_drops_solutions:
            return None
        return torch.tensor([k * count + owners[k][i] for i, k in enumerate(kinds)], device=self.accelerator.device)

    def _stack_context_sets(self, sets) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The context sets' prompts, left-padded to one width and stacked (ids, attention mask), and whether each
        row has a context."""
        prompt, mask = self._pad_prompts([ids for s in sets for ids in s.prompt_ids])
        has_context = [flag for s in sets for flag in s.has_context]
        return prompt, mask, torch.tensor(has_context, dtype=torch.float32, device=prompt.device)

    def _add_swapped_contexts(self, output, pending, completions_global, group_size, rows) -> None:
        """`e_step_swapped_feedback`: the E-step's teacher contexts (the same kinds, the same `rows` of pairing) with
        another problem's critique in place of each one's own (`vpd_s_*` keys; `vpd_s_has_context` marks the rollouts
        that have one). Gathers the feedback of the whole batch: a collective that every process takes at every
        generation."""
        feedback_global = gather_object(pending["feedback"])
        swapped = swapped_feedback(feedback_global, pending["offset"], len(pending["prompts"]), group_size)
        sets = self._e_step_context_sets({**pending, "feedback": swapped}, completions_global, group_size)
        prompt, mask, _ = self._stack_context_sets(sets)
        valid = [fb is not None for s in sets for fb in s.feedback]
        valid = torch.tensor(valid, dtype=torch.float32, device=prompt.device)
        rows = torch.arange(len(valid), device=prompt.device) if rows is None else rows
        output["vpd_s_teacher_input_ids"] = torch.cat([prompt[rows], output["completion_ids"]], 1)
        output["vpd_s_teacher_attention_mask"] = torch.cat([mask[rows], output["completion_mask"]], 1)
        output["vpd_s_has_context"] = valid[rows]

    def _pad_prompts(self, prompt_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher prompts left-padded into (ids, attention mask)."""
        ids = [torch.tensor(p, device=self.accelerator.device) for p in prompt_ids]
        mask = [torch.ones_like(p) for p in ids]
        return (
            pad(ids, padding_value=self._tokenizer.pad_token_id, padding_side="left"),
            pad(mask, padding_value=0, padding_side="left"),
        )

    def _served_steps(self) -> range:
        """The optimizer steps the generation batch made now will feed (GRPO buffers it for several)."""
        return served_steps(
            self.state.global_step,
            self._step,
            self.args.steps_per_generation,
            self.num_iterations,
            self.current_gradient_accumulation_steps,
        )

    def _group_owners(self, has_context, rewards, group_size, offset) -> list[int] | None:
        """`e_step_pairing="group"`'s teacher context per rollout, or None (self pairing, said once) when a group
        straddles processes: the same on every rank, since every rank's generation batch has the same size."""
        if offset % group_size or len(has_context) % group_size:
            if not self._warned_group_pairing:
                self._warned_group_pairing = True
                logger.warning(
                    "e_step_pairing='group' needs whole groups on each process, but the per-process generation batch "
                    "(per_device_train_batch_size × steps_per_generation = %d) is not a multiple of num_generations "
                    "(%d): the E-step pairs each rollout with its own context instead.",
                    len(has_context),
                    group_size,
                )
            return None
        return group_pairing(has_context, rewards, group_size, self.args.success_reward_threshold)

    def _log_context_metrics(self, mode, stats) -> None:
        counts = torch.tensor(
            [
                stats.num_samples,
                stats.with_feedback,
                stats.with_solution,
                stats.empty_feedback,
                stats.truncated_parts,
                stats.truncated_prompts,
            ],
            dtype=torch.float32,
            device=self.accelerator.device,
        )
        total = self.accelerator.reduce(counts, reduction="sum").tolist()
        n = max(total[0], 1.0)
        metrics = self._metrics[mode]
        metrics["vpd/feedback_coverage"].append(total[1] / n)
        metrics["vpd/sibling_solution_coverage"].append(total[2] / n)
        metrics["vpd/empty_feedback"].append(total[3])
        metrics["vpd/truncated_context_parts"].append(total[4])
        metrics["vpd/truncated_teacher_prompts"].append(total[5])

    # ------------------------------------------------------------------ forwards

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, *args, **kwargs):
        """GRPO's student forward; inside `_compute_loss` it also hands the student's log-probs (and, for top-k / full
        distillation, its final hidden states) to the distillation term, so one forward serves both losses."""
        capture, self._vpd_capture = self._vpd_capture, None
        if capture is None or self.args.distillation_mode == "sampled":
            result = super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, *args, **kwargs
            )
            if capture is not None:
                capture["logps"] = result[0]
            return result
        extra = {k: v for k, v in kwargs.items() if k not in ("batch_size", "compute_entropy", "compute_aux_loss")}
        if args or any(v is not None for v in extra.values()):
            raise NotImplementedError(
                "distillation_mode 'full'/'topk' supports text-only models (the teacher prompt carries no images); "
                "use distillation_mode='sampled'."
            )
        with capture_final_hidden(model) as hidden:
            result = super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, **kwargs
            )
        capture.update(
            logps=result[0],
            hidden=completion_hidden(hidden, logits_to_keep),
            head=output_head(model),
            backbone_output=list(hidden),  # what GRPO's fused head reads (`hidden` is cut from it)
        )
        return result

    def _teacher_forward(self, model, inputs, grad: bool, key: str = "teacher", with_hidden: bool = False):
        """log q(y|c) of the completion tokens under the teacher contexts `inputs[key + "_input_ids"]`, and with
        `with_hidden` the teacher's final hidden states and output head (else None, None)."""
        completion_len = inputs["completion_ids"].size(1)
        ids, mask = inputs[f"{key}_input_ids"], inputs[f"{key}_attention_mask"]
        context = torch.enable_grad() if grad else torch.no_grad()
        # without dropout: the targets are not noisy, and a chunked E-step's passes see the same function
        with context, self.teacher.activate(model) as teacher_model, dropout_disabled(teacher_model):
            detach = grad and self._detaches_context(teacher_model)
            with capture_final_hidden(teacher_model) if with_hidden else nullcontext() as hidden:
                if detach:
                    logps = detached_context_logps(teacher_model, ids, mask, completion_len, self.accelerator.autocast)
                    if hidden is not None:
                        del hidden[:-1]  # the context's forward ran first; the completion's states are the last
                else:
                    logps, _, _ = super()._get_per_token_logps_and_entropies(teacher_model, ids, mask, completion_len)
            if not with_hidden:
                return logps, None, None
            return logps, completion_hidden(hidden, completion_len), output_head(teacher_model)

    def _detaches_context(self, model) -> bool:
        """Whether the E-step's teacher forwards cache the context (`e_step_detach_context`). A model whose gradient
        checkpointing was switched on outside the config keeps the one-pass forward, warned once."""
        if not self.args.e_step_detach_context or supports_detached_context(model):
            return self.args.e_step_detach_context
        if not self._warned_detached_context:
            self._warned_detached_context = True
            logger.warning(
                "e_step_detach_context=True, but the model has gradient checkpointing on, which drops the key/value "
                "cache: the E-step runs its usual one-pass forward."
            )
        return False

    def _teacher_logps(self, model, inputs, grad: bool, key: str = "teacher"):
        return self._teacher_forward(model, inputs, grad, key)[0]

    def _reference_forward(self, batch):
        """(log π_ref(y|·), hidden, head) of the completions for the E-step's implicit reward and KL_E, without gradient,
        read when the E-step runs (so "student" is the student of this optimizer step). None means "the current
        student", read off the M-step's own forward (shared teacher) at no extra cost. A teacher adapter reuses GRPO's
        `old_per_token_logps` where they exist: the student that sampled these rollouts. "frozen" and
        "initial_teacher" are the initial weights (GRPO's reference model, or the base under disabled adapters) on the
        bare prompt and on the E-step's teacher contexts; for them (which did not sample the rollouts) `hidden` and
        `head` are their final hidden states at the completion positions and output head, for an exact KL_E (else
        None)."""
        reference = self.args.e_step_reference
        if reference == "teacher_snapshot":
            return self._teacher_logps(self.model, batch, grad=False), None, None
        if reference == "student":
            if not self.teacher.parameters():
                return None
            if batch.get("old_per_token_logps") is not None:
                return batch["old_per_token_logps"], None, None
            return self._completion_logps(self.model, batch), None, None
        key = self._e_key(batch) if reference == "initial_teacher" else None
        with self.teacher.initial(self.model, self.ref_model) as module, capture_final_hidden(module) as hidden:
            logps = self._completion_logps(module, batch, key)
            return logps, completion_hidden(hidden, batch["completion_ids"].size(1)), output_head(module)

    def _completion_logps(self, model, batch, key: str | None = None):
        """log p(y|x) of the completions under the student's own prompt (or, with `key`, under `batch[key +
        "_input_ids"]`, a teacher context), without gradient or dropout."""
        if key is None:
            ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
            mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        else:
            ids, mask = batch[f"{key}_input_ids"], batch[f"{key}_attention_mask"]
        with torch.no_grad(), dropout_disabled(model):
            return super()._get_per_token_logps_and_entropies(model, ids, mask, batch["completion_ids"].size(1))[0]

    # ------------------------------------------------------------------ losses

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """One E-step decision for this micro-batch (the same on every process), a teacher adapter's or a chunked
        E-step backward before the student's forward, then GRPO's loss with the M-step (and a one-pass shared
        teacher's E-loss, which joins the student's backward)."""
        self._plan = self._plan_e_step(inputs)
        try:
            if self._plan.run and (self.teacher.parameters() or self._plan.chunked):
                self._e_backward(model, inputs, chunk=self._plan.chunk_rows)
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        finally:
            self._plan = EStepPlan(run=False, rows=0, chunk_rows=0)

    def _compute_loss(self, model, inputs):
        mode = "train" if self.model.training else "eval"
        args = self.args
        has_context = inputs["vpd_has_context"]
        weight = args.distillation_weight
        # (1 − w)·L_GRPO on rollouts with context, through the advantages: it scales the policy term of every
        # loss_type; GRPO's β·KL to its reference, entropy bonus and aux loss stay at full strength (regularisers the
        # user set, which distillation does not replace).
        scale = torch.ones_like(has_context) if args.distillation_mixing == "add" else 1.0 - weight * has_context
        advantages = inputs["advantages"]
        scaled = advantages * (scale if advantages.dim() == 1 else scale.unsqueeze(1))
        e_only = mode == "train" and args.em_schedule == "alternate" and self._is_e_step(self.state.global_step)

        student = self._vpd_capture = {}
        loss = super()._compute_loss(model, {**inputs, "advantages": scaled})
        self._vpd_capture = None
        ga = self.current_gradient_accumulation_steps if mode == "train" else 1.0

        mask = trained_tokens(inputs)
        distill_mask = mask * has_context.unsqueeze(1)
        e_loss = None
        if self._plan.run and not self.teacher.parameters() and not self._plan.chunked:
            e_loss, _ = self._e_step(model, inputs, student_logps=student.get("logps"))
        if weight > 0 and self.accelerator.reduce(distill_mask.sum(), reduction="sum").item() > 0:
            distill, kl = self._distillation(model, inputs, student, distill_mask, mask)
            backbone = student.get("backbone_output")
            coefficient = self._distillation_coefficient(loss, distill / ga, backbone, weight, mode)
            loss = loss + coefficient * distill / ga
            self._metrics[mode]["vpd/distill_loss"].append(self._mean_across(distill))
            self._metrics[mode]["vpd/teacher_student_kl"].append(self._mean_across(kl))
        self._vpd_teacher_forward = None
        if "vpd_repair_ids" in inputs:
            repair = self._repair_loss(model, inputs)
            loss = loss + args.teacher_repair_weight * repair / ga
            self._metrics[mode]["vpd/repair_loss"].append(self._mean_across(repair))
        if e_only:
            loss = loss * 0.0
        if e_loss is not None:
            loss = loss + args.e_step_weight * e_loss / ga
        self._check_finite(loss, "total loss", mode)
        return loss

    def _distillation(self, model, inputs, student, distill_mask, mask):
        """M-step: divergence to the (detached) teacher on the student's own completion tokens, averaged over all
        completion tokens of the micro-batch (samples without context contribute zero). Also returns KL(π‖q) on the
        distilled tokens, estimated with k3 = r − 1 − log r, r = q/π (non-negative, unbiased under y ~ π)."""
        args = self.args
        cached = self._vpd_teacher_forward
        if cached is not None and cached[0] is inputs["teacher_input_ids"]:
            # the E-step's forward on the same inputs with the same (not yet stepped) weights
            _, teacher_logps, teacher_hidden, teacher_head = cached
        else:
            teacher_logps, teacher_hidden, teacher_head = self._teacher_forward(
                model, inputs, grad=False, with_hidden=args.distillation_mode != "sampled"
            )
        if args.distillation_mode == "sampled":
            per_token = per_token_distillation(
                "sampled", alpha=1.0, student_logps=student["logps"], teacher_logps=teacher_logps
            ) * self._sampling_correction(inputs, student["logps"])
        else:
            valid = distill_mask != 0
            per_valid = head_divergence(
                args.distillation_mode,
                student["hidden"][valid],
                teacher_hidden[valid],
                student["head"],
                teacher_head,
                alpha=args.distillation_alpha,
                temperature=self.temperature,
                topk=args.distillation_topk,
                add_tail=args.distillation_add_tail,
                chunk_tokens=args.distillation_chunk_tokens,
            )
            per_token = per_valid.new_zeros(valid.shape).masked_scatter(valid, per_valid)
        distill = masked_mean(per_token, distill_mask, normalizer=mask.sum())
        self._check_finite(distill, "distillation loss", "train" if self.model.training else "eval")
        log_ratio = teacher_logps.detach() - student["logps"].detach()
        kl = masked_mean(torch.expm1(log_ratio) - log_ratio, distill_mask)
        return distill, kl

    def _distillation_coefficient(self, grpo_loss, distill, hidden, weight: float, mode: str) -> float:
        """The distillation's coefficient: `distillation_weight`, or with `distillation_gradient_ratio` the balance of
        the two terms' gradient norms at the student's final hidden states (logged as `vpd/grad_norm_*` until a
        window's calibration is complete, after which they are no longer read)."""
        balance = self.distillation_balance
        if balance is None:
            return weight
        if mode != "train" or not torch.is_grad_enabled():  # evaluation: the coefficient training reached
            return balance.coefficient()
        if balance.calibrated:  # the same on every process: its counts come from all-reduced norms
            coefficient = balance.coefficient()
        else:
            grpo_norm, distill_norm = hidden_gradient_norms(
                [grpo_loss, distill], hidden, lambda t: self.accelerator.reduce(t, reduction="sum")
            )
            coefficient = balance.update(grpo_norm, distill_norm)
            self._metrics[mode]["vpd/grad_norm_grpo"].append(grpo_norm)
            self._metrics[mode]["vpd/grad_norm_distill"].append(distill_norm)
        self._metrics[mode]["vpd/distill_coefficient"].append(coefficient)
        return coefficient

    def _sampling_correction(self, inputs, student_logps) -> torch.Tensor | float:
        """Per-token importance weight (detached, capped at `SAMPLED_IS_CAP`) for the sampled M-step, whose score-function
        estimator assumes tokens drawn from the current student: π_θ/π_old where GRPO reuses rollouts
        (`num_iterations > 1`, `steps_per_generation > gradient_accumulation_steps`), times vLLM's sampler correction
        where GRPO applies one. 1.0 on-policy."""
        weight = 1.0
        old = inputs.get("old_per_token_logps")
        if old is not None:
            weight = torch.exp(student_logps.detach() - old).clamp(max=SAMPLED_IS_CAP)
        if self.use_vllm and self.vllm_importance_sampling_correction and "importance_sampling_ratio" in inputs:
            weight = (weight * inputs["importance_sampling_ratio"]).clamp(max=SAMPLED_IS_CAP)
        return weight

    # ------------------------------------------------------------------ E-step backward and teacher update

    def training_step(self, model, inputs, num_items_in_batch):
        output = super().training_step(model, inputs, num_items_in_batch)
        if self.teacher.parameters() and self._step % self.current_gradient_accumulation_steps == 0:
            # the last micro-batch of optimizer step `global_step` (incremented after this returns)
            e_step = self._is_e_step(self.state.global_step)
            if e_step and self.args.em_schedule != "sequential":
                self._teacher_optimizer_step()
            if e_step and self.args.em_schedule == "alternate":
                # An E-only step: drop the student's (zero) gradients so its optimizer skips it, momentum included.
                for group in self.optimizer.param_groups:
                    for param in group["params"]:
                        param.grad = None
        return output

    # ------------------------------------------------------------------ bookkeeping

    def _mean_across(self, value: torch.Tensor) -> float:
        return self.accelerator.gather(value.detach().float().reshape(1)).mean().item()

    def _check_finite(self, value: torch.Tensor, what: str, mode: str) -> None:
        if not self.args.stop_on_nan or torch.isfinite(value).all():
            return
        self._metrics[mode]["vpd/non_finite_loss"].append(1.0)
        self.log({"vpd/non_finite_loss": 1.0})
        raise VPDNumericalError(
            f"The {what} is {value.item()} at step {self.state.global_step}; training stopped before this update "
            "was applied, so the weights are unchanged by it. Lower the learning rate or e_step_beta, or set "
            "stop_on_nan=False to let GRPO's own handling continue."
        )

    def _save(self, output_dir=None, state_dict=None):
        """The student as GRPO saves it, then what the teacher keeps outside it (`Teacher.save`): checkpoints and
        `save_model` alike."""
        super()._save(output_dir, state_dict=state_dict)
        if self.args.should_save:
            self.teacher.save(output_dir or self.args.output_dir)

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        output_dir = os.path.join(self._get_output_dir(trial=trial), f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
        if self.args.should_save and self.teacher_optimizer is not None:
            torch.save(self.teacher_optimizer.state_dict(), os.path.join(output_dir, "vpd_teacher_optimizer.pt"))
        if self.args.should_save and self.distillation_balance is not None:
            self.distillation_balance.save(os.path.join(output_dir, GRADIENT_BALANCE_FILE))

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is None:
            return
        self.teacher.load(checkpoint)
        path = os.path.join(checkpoint, "vpd_teacher_optimizer.pt")
        if os.path.exists(path):
            if self.teacher_optimizer is None:
                self.create_optimizer()
            self.teacher_optimizer.load_state_dict(torch.load(path, map_location=self.accelerator.device))
        path = os.path.join(checkpoint, GRADIENT_BALANCE_FILE)
        if self.distillation_balance is not None and os.path.exists(path):
            self.distillation_balance.load(path)

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        """TRL's model card made true for local models and data, with VPD's saved layout (student at the root,
        teacher adapter in `vpd_teacher/`), how to load both, and the run's settings (`trl_vpd.model_card`)."""
        from .model_card import write_model_card

        write_model_card(self, model_name=model_name, dataset_name=dataset_name, tags=tags)


def _check_feedback_column(column, *datasets) -> None:
    if column is None:
        return
    for dataset in datasets:
        candidates = dataset.values() if isinstance(dataset, dict) else [dataset]
        for ds in candidates:
            names = getattr(ds, "column_names", None)
            if names is not None and column not in names:
                raise ValueError(
                    f"feedback_column={column!r} is not a column of the dataset (columns: {sorted(names)})."
                )


def _initial_copy(model, args, peft_config):
    """A copy of the untouched model for a full-weights frozen, EMA or adapter teacher (taken before GRPO patches the
    model; `teacher_mode=None` as it will resolve for full weights)."""
    if peft_config is not None or isinstance(model, str) or is_peft_model(model):
        return None
    mode = args.teacher_mode
    if mode is None:
        mode = args.default_teacher_mode(peft=False, sharded=sharded_launch(args))
    if (mode == "frozen" and args.beta != 0.0) or (mode == "adapter" and shares_grpo_reference(args)):
        return None  # the teacher will sit on GRPO's reference model
    return untied_copy(model) if mode in ("frozen", "ema", "adapter") else None


def untied_copy(model):
    """`copy.deepcopy(model)` whose forwards no longer call the original's. A forward patched on an instance by an
    earlier trainer (TRL's fused LM head, as SFTTrainer and GRPOTrainer add it) is a closure over the original's bound
    forward, which a deep copy keeps: the copy would run the original's weights wherever it is called without the fused
    head (generation: teacher evaluation, repairs). Such a forward is dropped, so the copy runs its class's forward as a
    freshly loaded model does; other instance forwards (device-map hooks, wrappers of the class's forward) are kept."""
    import copy

    model_copy = copy.deepcopy(model)
    for copied, source in zip(model_copy.modules(), model.modules()):
        forward = vars(copied).get("forward")
        if forward is not None and _calls_into(forward, source):
            del copied.forward
    return model_copy


def _calls_into(fn, target, depth: int = 4) -> bool:
    """Whether `fn` is, or through its closure cells reaches, a method bound to `target` (or `target` itself)."""
    if getattr(fn, "__self__", None) is target:
        return True
    for cell in getattr(getattr(fn, "__func__", fn), "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if value is target or (depth > 0 and callable(value) and _calls_into(value, target, depth - 1)):
            return True
    return False


def sharded_launch(args) -> bool:
    """Whether this run will train under DeepSpeed or FSDP, known before the accelerator exists (from the config or
    the flags `accelerate launch` sets)."""
    from accelerate.utils import parse_flag_from_env

    return (
        bool(args.deepspeed)
        or bool(args.fsdp)
        or parse_flag_from_env("ACCELERATE_USE_DEEPSPEED")
        or parse_flag_from_env("ACCELERATE_USE_FSDP")
        or args.distributed_state.distributed_type in ("DEEPSPEED", "FSDP")
    )


def _strengthen_hint(args, teacher) -> str:
    """The fields that make the E-step move the teacher, with their current values (for `EStepMonitor`)."""
    hint = (
        f"Fields that strengthen it: e_step_every (now {args.e_step_every}; 1 runs it on every step), e_step_beta "
        f"(now {args.e_step_beta}; larger makes each rollout's update larger), e_step_weight (now {args.e_step_weight})"
    )
    if teacher.parameters():
        hint += f", teacher_learning_rate (now {args.teacher_learning_rate or args.learning_rate})"
    return hint + "."
