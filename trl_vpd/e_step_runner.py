"""The E-step of `VPDTrainer`: its per-micro-batch plan, the teacher's loss on trajectory outcomes (one pass, chunked or
streamed), the statistics it hands to the trust region and the monitor, and a teacher adapter's own optimizer step.

A mixin so that `trainer.py` keeps the GRPO integration (generation, context, forwards, the M-step) and this module
the E-step; it uses the trainer's forwards (`_teacher_forward`, `_reference_forward`, `_completion_logps`).
"""

from __future__ import annotations

import math

import torch

from .e_step_plan import EStepPlan, chunk_rows, e_step_rows, is_e_step
from .losses import e_step_loss, head_divergence, selected_labels, swapped_feedback_loss


# The E-loss statistics that add up over chunks and processes (`losses.e_step_loss`); the means derive from them.
SUMMED_STATS = ("kl_sum", "kl_tokens", "h_pos_sum", "num_pos", "h_neg_sum", "num_neg", "num_labelled")


class EStepMixin:
    """E-step methods of `VPDTrainer` (see the module docstring)."""

    def _e_step(self, model, inputs, student_logps=None, grad=True):
        """E-loss of one micro-batch on the rollouts it may learn from (`e_step_rows`), with its statistics logged and
        given to the trust region, and the teacher's token log-probs it was computed from. The loss is None when no
        process has a labelled rollout or the hard trust region skips the batch. With `grad=False` the teacher forward
        runs without gradient and its log-probs are a leaf that requires one (for `_chunked_e_backward`)."""
        key = self._e_key(inputs)
        reference = self._reference_forward(inputs)
        if reference is None:  # the current student, read off the M-step's forward when there is one
            logps = student_logps.detach() if student_logps is not None else self._completion_logps(model, inputs)
            reference = (logps, None, None)
        with_hidden = key == "teacher" and self.args.distillation_mode != "sampled"
        teacher_logps, hidden, head = self._teacher_forward(
            model, inputs, grad=grad, key=key, with_hidden=with_hidden or reference[1] is not None
        )
        if not grad:
            teacher_logps = teacher_logps.detach().requires_grad_(True)
        hidden = hidden.detach() if hidden is not None else None
        if key == "teacher":
            self._vpd_teacher_forward = (inputs["teacher_input_ids"], teacher_logps.detach(), hidden, head)
        targets = self._e_targets(inputs)
        kl_terms = self._exact_kl_terms(targets, hidden, head, reference)
        loss, stats = self._e_loss(targets, teacher_logps, reference[0], kl_terms)
        if not self._record_e_step(loss, stats):
            return None, teacher_logps
        swap = self._swapped_feedback(inputs, targets) if grad else None
        if swap is not None:
            loss = loss + swap.loss(model, 0, teacher_logps.size(0), teacher_logps)
            swap.record()
        self._check_finite(loss, "E-step loss", "train")
        return loss, teacher_logps

    def _swapped_feedback(self, inputs, targets) -> SwappedFeedbackTerm | None:
        """`e_step_swapped_feedback`'s term for this micro-batch's teacher passes, or None when it is off."""
        if not self.args.e_step_swapped_feedback:
            return None
        _, trained = selected_labels(
            targets["advantages"], targets["rows"], targets["rewards"], self._label_threshold(), self.args.e_step_negatives
        )
        return SwappedFeedbackTerm(self, inputs, (trained > 0) & (inputs["vpd_s_has_context"] > 0))

    def _e_targets(self, inputs) -> dict:
        """What the E-loss scores besides the teacher's log-probs, per rollout: the trained-token mask, the rollouts it
        may learn from (`e_step_rows`), the per-rollout advantages and the rewards."""
        mask = trained_tokens(inputs)
        has_context = inputs["vpd_e_has_context" if self._e_key(inputs) == "vpd_e_teacher" else "vpd_has_context"]
        advantages = inputs["advantages"]
        return {
            "mask": mask,
            "rows": e_step_rows(has_context, mask),
            "advantages": advantages if advantages.dim() == 1 else advantages.mean(1),
            "rewards": inputs["vpd_rewards"],
        }

    def _exact_kl_terms(self, targets: dict, teacher_hidden, teacher_head, reference) -> torch.Tensor | None:
        """Per-token KL(q ‖ π_ref) over the whole vocabulary (B, T) at the positions the E-step measures (zero
        elsewhere), from the teacher's and the reference's final hidden states, for a reference that did not sample
        the rollouts (the initial weights): there the sampled estimate r·log r − r + 1 is biased, heavy-tailed and
        overstates by orders of magnitude as the teacher learns. None for the student (its estimate is unbiased)."""
        _, ref_hidden, ref_head = reference
        if ref_hidden is None:
            return None
        valid = (targets["mask"] * targets["rows"].unsqueeze(1)) != 0
        terms = torch.zeros(valid.shape, device=valid.device)
        if valid.any():
            with torch.no_grad():
                per_valid = head_divergence(
                    "full",
                    teacher_hidden.detach()[valid],
                    ref_hidden.detach()[valid],
                    teacher_head,
                    ref_head,
                    alpha=1.0,
                    temperature=self.temperature,
                    chunk_tokens=self.args.distillation_chunk_tokens,
                )
            terms = terms.masked_scatter(valid, per_valid.float())
        return terms

    def _e_loss(self, targets: dict, teacher_logps, reference, kl_terms=None):
        """The configured E-loss and its statistics (`losses.e_step_loss`) on `targets` (rows of `_e_targets`);
        `kl_terms` replaces the sampled KL_E estimate (`_exact_kl_terms`)."""
        args = self.args
        controller = self.trust_region.controller
        return e_step_loss(
            args.e_step_loss,
            teacher_token_logps=teacher_logps,
            ref_token_logps=reference,
            mask=targets["mask"],
            advantages=targets["advantages"],
            beta=controller.beta,
            delta=controller.delta,
            rewards=targets["rewards"],
            success_threshold=self._label_threshold(),
            use_weights=args.e_step_use_weights,
            length_normalize=args.e_step_length_normalize,
            negatives=args.e_step_negatives,
            rows=targets["rows"],
            normalize=args.e_step_normalize,
            kl_terms=kl_terms,
        )

    def _label_threshold(self) -> float | None:
        args = self.args
        return args.success_reward_threshold if args.e_step_labels == "threshold" else None

    def _record_e_step(self, loss, stats) -> bool:
        """Sum one micro-batch's E-step statistics over processes (one collective, so means are weighted by each
        process's rollouts and tokens), log them and hand them to the trust region. False when the teacher must not
        learn from the batch: no labelled rollout on any process, or KL_E beyond the hard trust region."""
        controller = self.trust_region.controller
        local = torch.tensor([stats[n] for n in SUMMED_STATS] + [float(loss.detach())], device=self.accelerator.device)
        totals = self.accelerator.reduce(local, reduction="sum").tolist()
        kl_sum, kl_tokens, pos_sum, num_pos, neg_sum, num_neg, labelled, loss_sum = totals
        kl = kl_sum / kl_tokens if kl_tokens else None
        h_pos = pos_sum / num_pos if num_pos else math.nan
        h_neg = neg_sum / num_neg if num_neg else math.nan
        skip = kl is not None and controller.skip_factor is not None and controller.should_skip(kl)
        no_signal = labelled == 0
        self.trust_region.record(kl, h_pos * controller.beta, h_neg * controller.beta, skipped=skip)
        self.e_step_monitor.observe(loss_sum / self.accelerator.num_processes, kl, no_signal, h_pos - h_neg)
        metrics = self._metrics["train"]
        metrics["vpd/e_loss"].append(loss_sum / self.accelerator.num_processes)
        if kl is not None:
            metrics["vpd/kl_e"].append(kl)
        metrics["vpd/beta_e"].append(controller.beta)
        metrics["vpd/delta_e"].append(controller.delta)
        metrics["vpd/teacher_reward_pos"].append(h_pos)
        metrics["vpd/teacher_reward_neg"].append(h_neg)
        metrics["vpd/e_step_skipped"].append(float(skip))
        metrics["vpd/e_step_no_signal"].append(float(no_signal))
        return not (skip or no_signal)


    def _plan_e_step(self, inputs) -> EStepPlan:
        """This micro-batch's E-step: run on E-steps of the schedule (a sequential schedule runs its E-step at
        generation instead), in chunks of `_e_chunk_rows`."""
        rows = inputs["completion_ids"].size(0)
        run = self.model.training and self.args.em_schedule != "sequential" and self._is_e_step(self.state.global_step)
        return EStepPlan(run=run, rows=rows, chunk_rows=self._e_chunk_rows(inputs) if run else rows)

    @staticmethod
    def _e_key(inputs) -> str:
        """Which teacher contexts the E-step scores: group pairing's, else the M-step's."""
        return "vpd_e_teacher" if "vpd_e_teacher_input_ids" in inputs else "teacher"

    def _e_backward(self, model, inputs, scale=None, chunk=None):
        """E-step backward of one micro-batch before the student's forward, outside DDP's gradient synchronisation: a
        teacher adapter's (forward and backward while it is active, so gradient checkpointing recomputes through the
        right adapter), or a shared teacher's in chunks, whose gradient accumulates in the shared weights and is
        synchronised by the student's backward (gradient accumulation's pattern)."""
        ga = scale or self.current_gradient_accumulation_steps
        chunk = self._e_chunk_rows(inputs) if chunk is None else chunk
        with self.accelerator.no_sync(model):
            if chunk < inputs["completion_ids"].size(0):
                self._chunked_e_backward(model, inputs, chunk, self.args.e_step_weight / ga)
                return
            e_loss, _ = self._e_step(model, inputs)
            if e_loss is not None:
                with self.teacher.activate(model):
                    self.accelerator.backward(self.args.e_step_weight * e_loss / ga)
                self._teacher_had_grad = True

    def _e_chunk_rows(self, inputs) -> int:
        """Rollouts per teacher pass of the E-step (`chunk_rows`), from padded lengths agreed across processes: each
        rank must run as many teacher passes (each forward through DDP is a collective). A shared teacher under
        DeepSpeed or FSDP runs in one pass (its engine takes one backward per micro-batch). With a detached context
        only the completion runs with gradient, and its length is what the budget counts; swapped-feedback contexts
        double it."""
        rows = inputs["completion_ids"].size(0)
        one_pass = not self.teacher.parameters() and (self.is_deepspeed_enabled or self.is_fsdp_enabled)
        student = inputs["prompt_ids"].size(1) + inputs["completion_ids"].size(1)
        teacher = inputs[f"{self._e_key(inputs)}_input_ids"].size(1)
        if self._detaches_context(self.model):
            teacher = inputs["completion_ids"].size(1) + 1  # the tokens that run with gradient
        if self.args.e_step_swapped_feedback:
            teacher *= 2  # the swapped contexts run with gradient beside each chunk's own
        if self.args.e_step_chunk_size is None and not one_pass and self.accelerator.num_processes > 1:
            lengths = torch.tensor([[student, teacher]], device=self.accelerator.device)
            student, teacher = self.accelerator.gather(lengths).max(0).values.tolist()
        return chunk_rows(rows, student, teacher, self.args.e_step_chunk_size, one_pass)

    def _chunked_e_backward(self, model, inputs, chunk: int, weight: float):
        """`e_step_chunk_size`: the E-loss on the whole micro-batch from a teacher forward without gradient, then its
        gradient w.r.t. the teacher's token log-probs pushed through the teacher `chunk` rollouts at a time. The same
        gradient as one pass (the loss may couple rollouts: it is computed once, on all of them; dropout is off in
        teacher forwards), with the activation memory of `chunk` teacher contexts, for one extra forward (and, for a
        shared teacher, a student forward without gradient for its reference). A separable E-loss skips the extra
        forward (`_streamed_e_backward`)."""
        if self.args.e_step_loss == "sigmoid" and self.trust_region.controller.skip_factor is None:
            self._streamed_e_backward(model, inputs, chunk, weight)
            return
        e_loss, leaf = self._e_step(model, inputs, grad=False)
        if e_loss is None:
            return
        (grad,) = torch.autograd.grad(weight * e_loss, leaf)
        key = self._e_key(inputs)
        rows = inputs["completion_ids"].size(0)
        swap = self._swapped_feedback(inputs, self._e_targets(inputs))
        for start in range(0, rows, chunk):
            end = min(start + chunk, rows)
            names = ("completion_ids", f"{key}_input_ids", f"{key}_attention_mask")
            part = {name: inputs[name][start:end] for name in names}
            # only the rollouts whose log-probs carry a gradient run with one (the swapped term reads the whole chunk)
            keep = with_one_row((grad[start:end] != 0).any(-1) | (swap is not None))
            with self.teacher.activate(model):
                logps = self._teacher_logps(model, {name: value[keep] for name, value in part.items()}, True, key)
                # Σ g·log q has the gradient g·∂log q/∂θ: the E-loss's, restricted to these rollouts
                total = (logps * grad[start:end][keep]).sum()
                if swap is not None:
                    total = total + weight * swap.loss(model, start, end, logps)
                self.accelerator.backward(total)
        if swap is not None:
            swap.record()
        self._teacher_had_grad = True

    def _streamed_e_backward(self, model, inputs, chunk: int, weight: float):
        """The chunked E-step of a separable E-loss (`sigmoid`: per-rollout terms over the micro-batch's count of trained
        rollouts, known before any forward, with β_E and δ fixed for the step): each chunk's share of the loss is
        backpropagated as soon as its teacher forward has run. `_chunked_e_backward`'s gradient without its
        whole-batch teacher forward; statistics are summed over the chunks and recorded once (one collective), and the
        chunks' detached log-probs and hidden states serve the M-step as the one-pass E-step's do."""
        key = self._e_key(inputs)
        targets = self._e_targets(inputs)
        _, trained = selected_labels(
            targets["advantages"], targets["rows"], targets["rewards"], self._label_threshold(), self.args.e_step_negatives
        )
        total = float((trained != 0).sum())
        swap = self._swapped_feedback(inputs, targets)
        needs_grad = trained != 0  # the swapped term's rollouts are trained ones
        reference = self._reference_forward(inputs)
        if reference is None:
            reference = (self._completion_logps(model, inputs), None, None)
        ref_logps, ref_hidden, ref_head = reference
        with_hidden = key == "teacher" and self.args.distillation_mode != "sampled"
        sums, loss_sum, logps, hidden, head = dict.fromkeys(SUMMED_STATS, 0.0), 0.0, [], [], None
        for start in range(0, inputs["completion_ids"].size(0), chunk):
            end = start + chunk
            names = ("completion_ids", f"{key}_input_ids", f"{key}_attention_mask")
            part = {name: inputs[name][start:end] for name in names}
            # every process runs every chunk's forward with gradient, whatever its own labels: a DDP forward with
            # gradient may take a collective (its first one rebuilds the gradient buckets across ranks)
            with self.teacher.activate(model):
                part_logps, part_hidden, head = self._teacher_forward_rows(
                    model, part, key, with_hidden or ref_hidden is not None, needs_grad[start:end]
                )
                part_targets = {name: value[start:end] for name, value in targets.items()}
                part_reference = (ref_logps[start:end], None if ref_hidden is None else ref_hidden[start:end], ref_head)
                kl_terms = self._exact_kl_terms(part_targets, part_hidden, head, part_reference)
                loss, stats = self._e_loss(part_targets, part_logps, part_reference[0], kl_terms)
                parts = []
                if stats["num_labelled"] > 0:
                    parts.append(loss * (stats["num_labelled"] / total))
                    loss_sum += float(parts[0].detach())
                if swap is not None:  # its forward runs on every chunk; its loss joins where the chunk has rows
                    swap_loss = swap.loss(model, start, end, part_logps)
                    parts += [swap_loss] if swap.has_rows(start, end) else []
                if parts:
                    share = sum(parts)
                    self._check_finite(share, "E-step loss", "train")
                    self.accelerator.backward(weight * share)
                    self._teacher_had_grad = True
            for name in SUMMED_STATS:
                sums[name] += stats[name]
            logps.append(part_logps.detach())
            hidden.append(part_hidden.detach() if part_hidden is not None else None)
        self._record_e_step(torch.tensor(loss_sum), sums)
        if swap is not None:
            swap.record()
        if key == "teacher":
            hidden = torch.cat(hidden) if with_hidden else None
            self._vpd_teacher_forward = (inputs["teacher_input_ids"], torch.cat(logps), hidden, head)

    def _teacher_forward_rows(self, model, part, key: str, with_hidden: bool, grad_rows: torch.Tensor):
        """`_teacher_forward` of one E-step chunk with gradient through `grad_rows` only (the rollouts with an E-loss
        term) and without it through the rest, whose log-probs the statistics and the M-step still read: a backward
        costs as many rollouts as its forward held, with or without a loss term. One pass with gradient per chunk
        on every process, over at least one rollout."""
        grad_rows = with_one_row(grad_rows)
        if grad_rows.all():
            return self._teacher_forward(model, part, grad=True, key=key, with_hidden=with_hidden)
        order = torch.cat([grad_rows.nonzero().flatten(), (~grad_rows).nonzero().flatten()])
        passes = [
            self._teacher_forward(model, {n: v[rows] for n, v in part.items()}, grad=grad, key=key, with_hidden=with_hidden)
            for rows, grad in ((grad_rows, True), (~grad_rows, False))
        ]

        def merged(index):
            if passes[0][index] is None:
                return None
            stacked = torch.cat([passes[0][index], passes[1][index]])
            return stacked.new_zeros(stacked.shape).index_copy(0, order, stacked)

        return merged(0), merged(1), passes[0][2]

    def _sequential_e_step(self, batch):
        """`em_schedule="sequential"`: one teacher update on the whole generation batch before any M-step uses it
        (at most one per generation: the buffered steps reuse the refreshed teacher)."""
        size = self.args.per_device_train_batch_size
        total = batch["completion_ids"].size(0)
        chunks = max(math.ceil(total / size), 1)
        for start in range(0, total, size):
            chunk = {k: slice_rows(v, start, start + size, total) for k, v in batch.items()}
            self._e_backward(self.model_wrapped, chunk, scale=chunks)
        self._teacher_optimizer_step()

    def _teacher_optimizer_step(self):
        params = self.teacher.parameters()
        if self.teacher_optimizer is None:
            self.create_optimizer()
        had_grad = torch.tensor(float(self._teacher_had_grad), device=self.accelerator.device)
        self._teacher_had_grad = False
        if self.accelerator.reduce(had_grad, reduction="sum").item() == 0:
            self.teacher_optimizer.zero_grad(set_to_none=True)
            return
        if self.accelerator.num_processes > 1:
            for param in params:
                if param.grad is None:
                    param.grad = torch.zeros_like(param)
                param.grad = self.accelerator.reduce(param.grad, reduction="mean")
        scaler = getattr(self.accelerator, "scaler", None)
        if scaler is not None:  # fp16: `accelerator.backward` scaled these gradients too
            inverse_scale = 1.0 / scaler.get_scale()
            for param in params:
                if param.grad is not None:
                    param.grad.mul_(inverse_scale)
        if not all(torch.isfinite(p.grad).all() for p in params if p.grad is not None):
            self._metrics["train"]["vpd/teacher_step_nonfinite"].append(1.0)
            self.teacher_optimizer.zero_grad(set_to_none=True)
            return
        if self.args.max_grad_norm and self.args.max_grad_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, self.args.max_grad_norm)
            self._metrics["train"]["vpd/teacher_grad_norm"].append(float(norm))
        for group in self.teacher_optimizer.param_groups:
            group["lr"] = self._teacher_lr()
        self.teacher_optimizer.step()
        self.teacher_optimizer.zero_grad(set_to_none=True)


    def _is_e_step(self, step: int) -> bool:
        """Whether optimizer step `step` trains the teacher: decided per optimizer step, whatever the generation
        buffering (`steps_per_generation`, `num_iterations`), and the same on every process."""
        args = self.args
        return is_e_step(
            step,
            enabled=args.e_step and self.teacher.trainable,
            warmup=args.e_step_warmup_steps,
            every=args.e_step_every,
        )


class SwappedFeedbackTerm:
    """`e_step_swapped_feedback`'s weighted loss over one micro-batch, taken in the E-step's teacher passes (all rollouts
    at once or a chunk at a time, each chunk its share of the mean over the micro-batch's `rows`), then logged once."""

    def __init__(self, trainer, inputs, rows: torch.Tensor):
        self.trainer, self.inputs, self.rows = trainer, inputs, rows
        self.loss_sum, self.gain_sum = 0.0, 0.0

    def has_rows(self, start: int, end: int) -> bool:
        return bool(self.rows[start:end].any())

    def loss(self, model, start: int, end: int, teacher_logps) -> torch.Tensor:
        """The term on rollouts `start:end` from the teacher's log-probs under their own contexts. Runs the swapped
        contexts' teacher forward with gradient on every process whatever its rows (a collective under DDP)."""
        trainer, inputs, args = self.trainer, self.inputs, self.trainer.args
        names = ("completion_ids", "vpd_s_teacher_input_ids", "vpd_s_teacher_attention_mask")
        swapped = trainer._teacher_logps(model, {n: inputs[n][start:end] for n in names}, grad=True, key="vpd_s_teacher")
        beta = trainer.trust_region.controller.beta
        rows = self.rows[start:end]
        loss, gain = swapped_feedback_loss(
            teacher_logps,
            swapped,
            trained_tokens(inputs)[start:end],
            rows,
            beta,
            length_normalize=args.e_step_length_normalize or args.e_step_normalize,
            normalizer=self.rows.sum(),
        )
        loss = loss / beta if args.e_step_normalize else loss
        self.loss_sum += float(loss.detach())
        self.gain_sum += float(gain[rows].sum())
        return args.e_step_swapped_feedback * loss

    def record(self) -> None:
        """Log the term's loss and the mean feedback gain (nats) across processes (one collective)."""
        trainer = self.trainer
        local = torch.tensor([self.loss_sum, self.gain_sum, float(self.rows.sum())], device=trainer.accelerator.device)
        loss_sum, gain_sum, rows = trainer.accelerator.reduce(local, reduction="sum").tolist()
        metrics = trainer._metrics["train"]
        metrics["vpd/swap_loss"].append(loss_sum / trainer.accelerator.num_processes)
        if rows:
            metrics["vpd/feedback_gain"].append(gain_sum / rows)


def trained_tokens(inputs) -> torch.Tensor:
    """The completion tokens a loss trains on (B, T) float: GRPO's completion mask (zero for masked truncations) times
    its `tool_mask` (zero on tool outputs, which the model did not write)."""
    mask = inputs["completion_mask"].float()
    return mask * inputs["tool_mask"] if "tool_mask" in inputs else mask


def with_one_row(rows: torch.Tensor) -> torch.Tensor:
    """`rows` (bool), with the first row set when none is: the pass still runs (a DDP forward with gradient may take a
    collective that every process must join)."""
    if rows.numel() and not rows.any():
        rows = rows.clone()
        rows[0] = True
    return rows


def slice_rows(value, start, end, total):
    if isinstance(value, torch.Tensor) and value.dim() > 0 and value.size(0) == total:
        return value[start:end]
    if isinstance(value, list) and len(value) == total:
        return value[start:end]
    return value
