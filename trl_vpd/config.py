"""`VPDConfig`: the GRPO configuration plus what Variational Policy Distillation adds."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trl import GRPOConfig

from .losses import DISTILLATION_MODES, E_STEP_LOSSES

TEACHER_MODES = ("shared", "frozen", "ema", "adapter")
E_STEP_PAIRINGS = ("self", "group")
E_STEP_REFERENCES = ("student", "frozen", "teacher_snapshot", "initial_teacher")
EM_SCHEDULES = ("joint", "sequential", "alternate")

DEFAULT_TEACHER_TEMPLATE = (
    "{prompt}{attempt}{feedback}{contrast}{solution}\n\nUsing this, solve the original problem correctly."
)
DEFAULT_ATTEMPT_TEMPLATE = "\n\nYour earlier attempt:\n\n{attempt}"
DEFAULT_FEEDBACK_TEMPLATE = "\n\nFeedback on your earlier attempt:\n\n{feedback}"
DEFAULT_SOLUTION_TEMPLATE = "\n\nA correct solution:\n\n{solution}"
DEFAULT_CONTRAST_TEMPLATE = "\n\nAn unsuccessful attempt, for contrast:\n\n{contrast}"


@dataclass
class VPDConfig(GRPOConfig):
    r"""
    Configuration for [`VPDTrainer`]: every [`~trl.GRPOConfig`] field keeps its meaning; the fields below add the
    feedback-conditioned teacher (its context, its mode), the M-step distillation, the E-step that trains the teacher
    on trajectory outcomes, and the adaptive trust region that keeps the teacher near the moving student.

    VPD: "Learning from Language Feedback via Variational Policy Distillation", Li, Nijkamp, Yavuz, Joty,
    arXiv 2605.15113. Defaults follow the paper where secondary sources report its choice (BCO-style E-loss, the
    current student as reference, reverse-KL M-step, shared weights), except the E-step's schedule, strength, pairing
    and labels (every step, β_E = 1.0, group pairing, successes only; the paper: every 5 steps, 0.1, self, both),
    chosen on our benchmarks (README, "Defaults that differ from the paper"); `paper_preset()` gives the paper's.
    """

    # Feedback sources
    feedback_column: str | None = field(
        default=None,
        metadata={
            "help": "Dataset column holding privileged context for the teacher (a hint, a reference solution, an "
            "environment's critique). Missing column → error naming it; empty strings count as no feedback."
        },
    )
    use_sibling_solutions: bool = field(
        default=True,
        metadata={
            "help": "Show the teacher a successful sibling from the same group as a demonstration (SDPO's implicit "
            "feedback for scalar-reward environments). A sample never sees itself."
        },
    )
    success_reward_threshold: float = field(
        default=1.0,
        metadata={"help": "A rollout whose total (weighted) reward is at least this counts as a success."},
    )
    feedback_only_without_solution: bool | None = field(
        default=None,
        metadata={
            "help": "Use environment/column feedback only for samples that have no successful sibling (SDPO's "
            "`environment_feedback_only_without_solution`; the SDPO reference code's default); False: show both. "
            "None (default): True for `teacher_mode='shared'` (on `reveal` the critique next to a correct sibling "
            "cost the student, and without it the shared teacher's student drew level with GRPO; README) and for a "
            "full-weights student's teacher adapter (with `e_step_mixed_contexts`, below), False for a PEFT "
            "student's teacher adapter (level either way on the text families, behind with it on the demo)."
        },
    )
    sibling_contrast: bool = field(
        default=False,
        metadata={
            "help": "Besides the successful sibling, show a failed sibling of the same group (never the sample "
            "itself) so the teacher sees what separates success from failure. Only where a demonstration is shown."
        },
    )
    remove_thinking_from_demonstration: bool = field(
        default=True,
        metadata={"help": "Strip `<think>...</think>` blocks from sibling demonstrations before showing them."},
    )
    include_attempt: bool = field(
        default=False,
        metadata={
            "help": "Show the student's own attempt in the teacher context. Off by default: the teacher then scores "
            "tokens it has just read, which pulls its distribution toward copying the failed attempt."
        },
    )

    # Teacher context
    teacher_template: str = field(
        default=DEFAULT_TEACHER_TEMPLATE,
        metadata={
            "help": "Template of the teacher's user turn, with `{prompt}` (the last user message or the plain "
            "prompt), `{attempt}`, `{feedback}`, `{contrast}` and `{solution}` (each filled from its own template "
            "below, or empty)."
        },
    )
    attempt_template: str = field(default=DEFAULT_ATTEMPT_TEMPLATE, metadata={"help": "Renders `{attempt}`."})
    feedback_template: str = field(default=DEFAULT_FEEDBACK_TEMPLATE, metadata={"help": "Renders `{feedback}`."})
    solution_template: str = field(default=DEFAULT_SOLUTION_TEMPLATE, metadata={"help": "Renders `{solution}`."})
    contrast_template: str = field(default=DEFAULT_CONTRAST_TEMPLATE, metadata={"help": "Renders `{contrast}`."})
    max_teacher_prompt_length: int = field(
        default=2048,
        metadata={
            "help": "Token budget of the teacher prompt. Feedback, demonstration and attempt are truncated first "
            "(with a visible marker); the original prompt is cut (from the left) only if it alone exceeds the budget."
        },
    )
    max_feedback_length: int = field(
        default=1024,
        metadata={"help": "Token budget of one feedback text before it enters the template (truncated with a marker)."},
    )

    # Teacher
    teacher_mode: str | None = field(
        default=None,
        metadata={
            "help": "How the teacher is parameterised. `shared`: the student's own weights, told apart by the "
            "prompt (the paper's design, no extra memory). `frozen`: the initial weights (PEFT: adapters disabled), "
            "a passive SDPO-style baseline. `ema`: an exponential moving average of the student (PEFT: an EMA "
            "adapter). `adapter`: a second LoRA adapter on the same (optionally 4-bit) base, trained by the E-step "
            "with its own learning rate; for a full-weights student, a LoRA adapter on a frozen copy of the initial "
            "model (VPDTrainer's `teacher_peft_config`). None (default): resolved by the trainer, `adapter` on one "
            "process or with DDP when the student is a PEFT model (on three benchmark families the better reader of "
            "feedback, the student level or ahead of `shared`) or a full-weights one that the E-step trains a teacher "
            "for (its teacher then holds a frozen copy of the initial model, as TRL's SDPOTrainer's EMA teacher does; "
            "on four benchmark families +0.013 over `shared` on average, its reading rising where the shared "
            "teacher's falls), `shared` otherwise (DeepSpeed/FSDP, which do not shard the teacher's own optimizer, "
            "or a full-weights student without an E-step)."
        },
    )
    teacher_ema_rate: float = field(
        default=0.05,
        metadata={"help": "`ema` mode: teacher ← (1 − rate)·teacher + rate·student after each optimizer step (SDPO)."},
    )
    teacher_learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "`adapter` mode: learning rate of the teacher adapter. None → `learning_rate` (for a full-weights "
            "student's teacher adapter 10 × `learning_rate`, LoRA's usual ratio to a full fine-tuning rate)."
        },
    )

    # M-step
    distillation_weight: float = field(
        default=0.5,
        metadata={
            "help": "w in L_student = (1 − w)·L_GRPO + w·L_distill for samples with feedback; samples without "
            "feedback keep the full GRPO term. 1.0 is pure distillation where feedback exists (SDPO's default). The "
            "(1 − w) scales GRPO's policy term (of every `loss_type`); its β·KL to the reference, entropy bonus and "
            "aux loss stay at full strength: they are regularisers the user chose, which distillation does not "
            "replace."
        },
    )
    distillation_mixing: str = field(
        default="interpolate",
        metadata={
            "help": "`interpolate` (default): (1 − w)·L_GRPO + w·L_distill on samples with context, the distillation "
            "replacing part of GRPO's policy term. `add`: L_GRPO + w·L_distill, GRPO's term kept whole and the "
            "distillation added to it."
        },
    )
    distillation_gradient_ratio: float | None = field(
        default=None,
        metadata={
            "help": "r > 0: the distillation's coefficient is chosen during training so that its gradient at the "
            "student's final hidden states is r × GRPO's (means of both norms: `distillation_gradient_window`), "
            "instead of the constant `distillation_weight`: a balance that does not depend on the two losses' scales, "
            "which differ with the task, the model and the vocabulary. GRPO's term keeps its (1 − w) scaling. Needs "
            "distillation_mode 'topk' or 'full'; costs one pass back through the output head per term and step (with a "
            "window, only until it is complete). "
            "None (default): 2/3, calibrated over the first 10 steps, for a teacher adapter (a LoRA student's; a "
            "full-weights student's capped at `distillation_weight`: `distillation_gradient_capped`), level with or "
            "above w = 0.5 on average over our five benchmark models (README); off for the other teachers. 0: off."
        },
    )
    distillation_gradient_window: int | None = field(
        default=None,
        metadata={
            "help": "With `distillation_gradient_ratio`: None → running means of the two gradient norms, the balance "
            "held at every step (10 with the default balance); K → plain means over the first K micro-batches where "
            "each norm is non-zero (steps, without gradient accumulation), then frozen: the coefficient is calibrated "
            "once and afterwards the distillation's share follows its gradient as under a constant weight."
        },
    )
    distillation_gradient_capped: bool | None = field(
        default=None,
        metadata={
            "help": "With `distillation_gradient_ratio`: never give the distillation a larger coefficient than "
            "`distillation_weight`, so that the balance only lowers the distillation's share where its gradient "
            "outweighs GRPO's and leaves a model whose distillation gradient is small at the constant weight. None "
            "(default): on with a full-weights student's default balance, off with a LoRA student's (where the cap "
            "cost the demo model 0.025) and with a ratio you set."
        },
    )
    distillation_alpha: float = field(
        default=1.0,
        metadata={
            "help": "Divergence between student and teacher: 1 = reverse KL(student‖teacher) (mode-seeking, the "
            "paper's M-step), 0 = forward KL(teacher‖student), in between = generalized Jensen–Shannon."
        },
    )
    distillation_mode: str = field(
        default="topk",
        metadata={
            "help": "`topk` (default): the student's top-k tokens plus a tail bucket (SDPO's reference setting, k=100); "
            "`full`: the whole vocabulary; both project GRPO's own final hidden states through the LM head a chunk "
            "at a time, so no (batch, length, vocabulary) logits are held. `sampled`: the realized tokens only "
            "(REINFORCE estimator of the reverse KL; alpha must be 1), the cheapest, TRL SDPOTrainer's default. On "
            "our learning benchmark top-k beat sampled for every method (benchmarks/results/learning_small_topk.md)."
        },
    )
    distillation_topk: int = field(default=100, metadata={"help": "k for `distillation_mode='topk'` (SDPO: 100)."})
    distillation_chunk_tokens: int = field(
        default=256,
        metadata={
            "help": "`topk`/`full` modes: completion tokens whose vocabulary-sized logits are computed at once (`topk` "
            "recomputes them in the backward). The M-step's extra memory is a few × chunk × vocabulary × 4 bytes; "
            "lower it for large vocabularies."
        },
    )
    distillation_add_tail: bool = field(
        default=True, metadata={"help": "`topk` mode: add a bucket for the probability mass outside the top-k."}
    )

    # Off-policy teacher repairs (beyond the paper)
    teacher_repairs: int = field(
        default=0,
        metadata={
            "help": "Teacher repairs (our extension, off by default): in each group where no rollout reached "
            "`success_reward_threshold`, the teacher samples this many completions from a failed rollout's feedback "
            "context; the first one the reward functions score as a success becomes a supervised target for the "
            "student under the student's own prompt (EM's M-step E_q[log π_θ], sampled from the teacher and kept "
            "where it succeeds), so GRPO's all-failed groups get a success to learn from. Costs one teacher "
            "generation and reward call per attempt. Single-turn rollouts only (no tools, environments or "
            "`rollout_func`)."
        },
    )
    teacher_repair_weight: float = field(
        default=1.0,
        metadata={
            "help": "Weight of the teacher-repair term: each successful repair's mean token negative log-likelihood "
            "under the student, averaged over the micro-batch's rollouts like a per-sample loss."
        },
    )

    # E-step
    e_step: bool = field(
        default=True,
        metadata={"help": "Train the teacher on trajectory outcomes (VPD). False gives passive self-distillation."},
    )
    e_step_loss: str = field(
        default="sigmoid",
        metadata={
            "help": "`sigmoid`: BCO-style −log σ(z·(β_E·h − δ)) with h = log q(y|c) − log π_ref(y|x) (the paper's "
            "choice). `kto`: KTO's 1 − σ(z·β_E·(h − z_ref)). `awr`: advantage-weighted likelihood + β_E·KL(q‖π_ref)."
        },
    )
    e_step_beta: float = field(
        default=1.0,
        metadata={
            "help": "Initial β_E (fixed unless `trust_region_target_kl` is set). Paper: 0.1. Default 1.0: at 0.1 the "
            "E-loss sits at log 2 and moves the teacher by ~1e-3 nats per token (issue 13); see README, 'Defaults "
            "that differ from the paper'."
        },
    )
    e_step_weight: float = field(default=1.0, metadata={"help": "λ_E, the weight of the E-loss."})
    e_step_pairing: str = field(
        default="group",
        metadata={
            "help": "`group` (default): the feedback of one failed rollout conditions the teacher, which scores every "
            "sibling of its group, so the successes teach it what that critique should lead to. `self` (the paper): "
            "each rollout is scored under its own feedback; with feedback only on failures and successes only "
            "(`e_step_negatives=False`), its E-step never reads a feedback sentence. Falls back to `self` (warned "
            "once) where a group straddles processes."
        },
    )
    e_step_solutions: bool | None = field(
        default=None,
        metadata={
            "help": "Show successful siblings' solutions in the E-step's teacher contexts as the M-step does. False: the "
            "E-step scores rollouts under the feedback alone (with group pairing, a failed sibling's critique), so "
            "the teacher is trained to read critiques rather than to copy a shown answer (with group pairing and "
            "successes only, every context the E-step trains on would otherwise show a correct answer); the M-step "
            "keeps the demonstrations. Costs one more tokenization of the contexts, no extra forward. None (default): "
            "False for `teacher_mode='adapter'` (a better reader of critiques, the student level or ahead), True "
            "otherwise (under shared weights the critique-only E-step cost the student on two of four benchmarks)."
        },
    )
    e_step_mixed_contexts: bool | None = field(
        default=None,
        metadata={
            "help": "With `e_step_solutions=False`: score every other rollout (by its index in the generation batch) "
            "in the M-step's contexts instead, so the E-step trains the teacher both to read a critique alone and to "
            "use a shown solution. A teacher adapter trained on critiques alone wore its copying of shown solutions "
            "down, which the M-step's demonstrations need (benchmarks/trainers.py, Z78); one trained on the M-step's "
            "contexts alone stopped reading critiques (Z79). Costs one more tokenization of the contexts. None "
            "(default): True for a full-weights student's teacher adapter whose E-step drops the demonstrations "
            "(with `feedback_only_without_solution`, +0.03 over critiques alone on average over four benchmark "
            "families, Z86), False otherwise (a PEFT student's adapter kept its copying: no effect, Z82)."
        },
    )
    e_step_swapped_feedback: float = field(
        default=0.0,
        metadata={
            "help": "Weight of a second E-step term on each success: −log σ(β_E·g) with the feedback gain g = log q(y|c) "
            "− log q(y|c̃), c̃ the same teacher context with another problem's critique in place of its own. Both "
            "sides carry the gradient, so the teacher earns nothing by solving the problem as the student does (which "
            "raises both) and is trained to read the critique. 0 (default): off. Costs one more teacher forward and "
            "backward per E-step; logs `vpd/feedback_gain`."
        },
    )
    e_step_reference: str | None = field(
        default=None,
        metadata={
            "help": "Reference π_ref of the implicit reward h = log q(y|c) − log π_ref and of KL_E: `student` (the "
            "current student reading the bare prompt: the paper's dynamic prior), `initial_teacher` (the initial "
            "weights reading the same teacher context: the passive teacher, so h is the gain over it and KL_E the "
            "drift from it), `frozen` (the initial weights on the bare prompt), `teacher_snapshot` (the teacher before "
            "this E-step). None (default): `initial_teacher` for `teacher_mode='adapter'`, `student` otherwise. "
            "Against the student, h starts far below 0 on the successes wherever the student solves what the teacher "
            "cannot yet read, and closing that gap taught the teacher the successes' length rather than the critique "
            "(benchmarks/trainers.py, Z5-Z10); the other teachers keep the paper's prior (a shared teacher needs PEFT "
            "or `beta > 0` for the initial weights)."
        },
    )
    e_step_use_weights: bool = field(default=False, metadata={"help": "Weight each rollout's E-loss by |A_i|."})
    e_step_length_normalize: bool = field(
        default=False, metadata={"help": "Use the per-token mean instead of the sum for the implicit reward h."}
    )
    e_step_normalize: bool = field(
        default=False,
        metadata={
            "help": "`sigmoid`/`kto`: use the per-token implicit reward h and divide the E-loss by β_E, so that each "
            "rollout moves the teacher's token log-probs with a weight of at most 1/|y| (a GRPO policy term with an "
            "advantage ≤ 1), whatever β_E, the completion length or the model; β_E then sets only where the loss "
            "saturates (the trust region), in nats per token. Without it (the paper's form) the update grows with β_E "
            "and with the completion length."
        },
    )
    e_step_labels: str = field(
        default="advantage",
        metadata={
            "help": "`advantage`: z = sign(A) (zero-advantage rollouts carry no signal). `threshold`: z = +1 if the "
            "reward ≥ `success_reward_threshold` else −1."
        },
    )
    e_step_negatives: bool = field(
        default=False,
        metadata={
            "help": "Let failed rollouts (z = -1) train the teacher, as the paper's BCO E-loss does (`paper_preset`). "
            "Default False: only successes do. A failure is often a near-miss of a correct answer, and pushing its "
            "sequence down pushes the correct tokens it shares down too; in our benchmarks that degraded the teacher "
            "in every run and, in long runs, the student (benchmarks/results/learning_small_posonly_120.md)."
        },
    )
    em_schedule: str = field(
        default="joint",
        metadata={
            "help": "`joint`: E- and M-losses in the same optimizer step. `sequential`: per generation batch, the "
            "E-step updates the teacher first, then the M-steps distill from the refreshed teacher (`adapter` mode). "
            "`alternate`: E-steps and M-steps on different optimizer steps."
        },
    )
    e_step_chunk_size: int | None = field(
        default=None,
        metadata={
            "help": "Run the E-step's teacher forward and backward this many rollouts at a time (`shared` and "
            "`adapter` teachers). Teacher contexts carry feedback and a sibling's solution (often 2-4× the student's "
            "sequence), so one pass over the micro-batch holds several times the student's activations. None "
            "(default): as many rollouts as keep the teacher's tokens per pass within the student micro-batch's; 0: one "
            "pass. Chunks cost one extra teacher forward without gradient per E-step (and, for a shared teacher, a "
            "student forward without gradient); the gradient is exact. A shared teacher under DeepSpeed/FSDP runs in "
            "one pass."
        },
    )
    e_step_detach_context: bool = field(
        default=False,
        metadata={
            "help": "Run the E-step's teacher context (prompt, feedback, demonstration) once without gradient, as a "
            "key/value cache, and only the completion with gradient: the E-step's backward and the activations it "
            "keeps then scale with the completion, not the context. The forward's values are unchanged; the gradient "
            "omits the path through the context's keys and values, so the teacher learns to read the feedback only "
            "through how the completion attends to it. Not with gradient checkpointing (which drops the cache)."
        },
    )
    e_step_warmup_steps: int = field(default=0, metadata={"help": "No E-step before this optimizer step."})
    e_step_every: int = field(
        default=1,
        metadata={
            "help": "Run the E-step every this many optimizer steps. Default 1; the paper's 5 (which beat 1 and 10 "
            "at its 1e-6 learning rate on Qwen3-1.7B) left the teacher unmoved on every benchmark here (issue 13; "
            "README, 'Defaults that differ from the paper'). Decided per optimizer "
            "step: with `num_iterations > 1` or `steps_per_generation > gradient_accumulation_steps` a generation "
            "feeds several steps, and the E-step runs on those of them that the schedule names (with "
            "`num_iterations > 1` and `e_step_every=1` it sees the same rollouts once per iteration, as GRPO does)."
        },
    )

    # Adaptive trust region
    trust_region_target_kl: float | None = field(
        default=None,
        metadata={
            "help": "Target ε of the per-token KL(teacher‖reference). When set, β_E adapts multiplicatively toward "
            "it after each E-step; None keeps β_E fixed (the paper-faithful setting). Set it above the first E-step's "
            "`vpd/kl_e`: the teacher prompt alone makes KL_E > 0 before any update (0.35 in our benchmark). KL_E is "
            "measured on the student's rollouts: sampled (r·log r − r + 1 on each token) against the student that drew "
            "them, exact over the vocabulary against the initial weights (`initial_teacher`, `frozen`), where the "
            "sampled estimate would be biased and overstate by orders of magnitude as the teacher learns."
        },
    )
    trust_region_rate: float = field(default=0.1, metadata={"help": "η in β ← β·exp(η·clip((KL − ε)/ε, −c, c))."})
    trust_region_max_change: float = field(default=1.0, metadata={"help": "c, the clip on (KL − ε)/ε."})
    trust_region_beta_min: float = field(default=1e-3, metadata={"help": "Lower bound of β_E."})
    trust_region_beta_max: float = field(default=10.0, metadata={"help": "Upper bound of β_E."})
    trust_region_skip_factor: float | None = field(
        default=None,
        metadata={
            "help": "κ: skip the teacher update on a batch whose KL_E exceeds κ·ε (hard trust region). Needs "
            "`trust_region_target_kl`."
        },
    )

    # Safety
    stop_on_nan: bool = field(
        default=True,
        metadata={"help": "Stop training with a message when a VPD loss is not finite, before the weights change."},
    )

    def __post_init__(self):
        super().__post_init__()
        _check_choice("distillation_mode", self.distillation_mode, DISTILLATION_MODES)
        _check_choice("e_step_loss", self.e_step_loss, E_STEP_LOSSES)
        _check_choice("e_step_pairing", self.e_step_pairing, E_STEP_PAIRINGS)
        _check_choice("e_step_labels", self.e_step_labels, ("advantage", "threshold"))
        _check_choice("em_schedule", self.em_schedule, EM_SCHEDULES)
        self._teacher_auto: dict = {}  # the values chosen for fields left at None, chosen again if still in place
        if self.teacher_mode is not None:
            self._resolve_teacher_fields()
        elif self.e_step_reference is not None:
            _check_choice("e_step_reference", self.e_step_reference, E_STEP_REFERENCES)
        if self.distillation_mixing not in ("interpolate", "add"):
            raise ValueError(f"distillation_mixing must be 'interpolate' or 'add', got {self.distillation_mixing!r}.")
        if not 0.0 <= self.distillation_weight <= 1.0:
            raise ValueError(f"distillation_weight must be in [0, 1], got {self.distillation_weight}.")
        if self.distillation_gradient_ratio:
            if self.distillation_gradient_ratio < 0:
                raise ValueError(f"distillation_gradient_ratio must be ≥ 0, got {self.distillation_gradient_ratio}.")
            if self.distillation_gradient_window is not None and self.distillation_gradient_window < 1:
                raise ValueError(
                    f"distillation_gradient_window must be ≥ 1 or None, got {self.distillation_gradient_window}."
                )
            if self.distillation_mode == "sampled":
                raise ValueError(
                    "distillation_gradient_ratio reads the student's final hidden states, which "
                    "distillation_mode='sampled' does not keep: use 'topk' or 'full'."
                )
        if self.teacher_repairs < 0 or self.teacher_repair_weight < 0:
            raise ValueError("teacher_repairs and teacher_repair_weight must be ≥ 0.")
        if not 0.0 <= self.distillation_alpha <= 1.0:
            raise ValueError(f"distillation_alpha must be in [0, 1], got {self.distillation_alpha}.")
        if self.distillation_mode == "sampled" and self.distillation_alpha != 1.0:
            raise ValueError("distillation_mode='sampled' estimates the reverse KL only: set distillation_alpha=1.0.")
        if self.distillation_topk < 1:
            raise ValueError(f"distillation_topk must be ≥ 1, got {self.distillation_topk}.")
        if self.distillation_chunk_tokens < 1:
            raise ValueError(f"distillation_chunk_tokens must be ≥ 1, got {self.distillation_chunk_tokens}.")
        if self.e_step_detach_context and self.gradient_checkpointing:
            raise ValueError(
                "e_step_detach_context=True needs the key/value cache, which gradient checkpointing drops in the "
                "forward with gradient: set one of them to False."
            )
        if self.e_step_chunk_size is not None and self.e_step_chunk_size < 0:
            raise ValueError(f"e_step_chunk_size must be ≥ 0 (0: one pass) or None (auto), got {self.e_step_chunk_size}.")
        if self.e_step_swapped_feedback < 0:
            raise ValueError(f"e_step_swapped_feedback must be ≥ 0, got {self.e_step_swapped_feedback}.")
        if self.e_step_every < 1 or self.e_step_warmup_steps < 0:
            raise ValueError("e_step_every must be ≥ 1 and e_step_warmup_steps ≥ 0.")
        if self.trust_region_skip_factor is not None and self.trust_region_target_kl is None:
            raise ValueError("trust_region_skip_factor needs trust_region_target_kl (the skip threshold is κ·ε).")
        if self.trust_region_target_kl is not None and self.trust_region_target_kl <= 0:
            raise ValueError("trust_region_target_kl must be > 0 (or None for a fixed β_E).")
        if not self.trust_region_beta_min <= self.e_step_beta <= self.trust_region_beta_max:
            raise ValueError("e_step_beta must lie within [trust_region_beta_min, trust_region_beta_max].")
        for name in _TEMPLATE_FIELDS:
            _check_template(name, getattr(self, name))
        if self.sibling_contrast and "{contrast}" not in self.teacher_template:
            raise ValueError("sibling_contrast=True needs a `{contrast}` placeholder in teacher_template.")
        if self.max_teacher_prompt_length < 16:
            raise ValueError("max_teacher_prompt_length must be at least 16 tokens.")

    def default_teacher_mode(self, peft: bool, sharded: bool) -> str:
        """What `teacher_mode=None` becomes: a teacher adapter on one process or DDP for a PEFT student, or for a
        full-weights one whose teacher an E-step trains (a LoRA on a frozen copy of the initial model); the shared
        weights otherwise (`sharded`: DeepSpeed or FSDP)."""
        return "adapter" if not sharded and (peft or self.e_step) else "shared"

    def resolve_teacher_mode(self, peft: bool, sharded: bool) -> None:
        """Fill the fields left at None from the model the trainer holds (`default_teacher_mode`). Called by
        `VPDTrainer`; a config reused for another model, or whose `teacher_mode` was set after construction, is
        resolved again."""
        self._peft_student = peft
        self._resolve_teacher_fields(default_mode=self.default_teacher_mode(peft, sharded))

    def _resolve_teacher_fields(self, default_mode: str | None = None) -> None:
        """The defaults and checks that depend on the teacher mode."""
        for name, value in getattr(self, "_teacher_auto", {}).items():
            if getattr(self, name) == value:
                setattr(self, name, None)
        chosen = [name for name in _TEACHER_DEFAULTS if getattr(self, name) is None]
        if self.teacher_mode is None:
            self.teacher_mode = default_mode
        _check_choice("teacher_mode", self.teacher_mode, TEACHER_MODES)
        if self.e_step_solutions is None:
            self.e_step_solutions = self.teacher_mode != "adapter"
        if self.e_step_reference is None:
            self.e_step_reference = "initial_teacher" if self.teacher_mode == "adapter" else "student"
        # a full-weights student's teacher adapter (a LoRA on a frozen copy); until the trainer says, a PEFT student's
        copy_adapter = self.teacher_mode == "adapter" and getattr(self, "_peft_student", True) is False
        if self.feedback_only_without_solution is None:
            self.feedback_only_without_solution = self.teacher_mode == "shared" or copy_adapter
        if self.e_step_mixed_contexts is None:
            self.e_step_mixed_contexts = copy_adapter and self.e_step_drops_solutions
        default_balance = self.distillation_gradient_ratio is None
        if default_balance:
            # a teacher adapter (a LoRA student's, or one on a frozen copy): the balance calibrated once; capped at the
            # constant weight for full weights (issue 13, benchmarks/trainers.py Z101-Z105)
            adapter = self.teacher_mode == "adapter" and self.distillation_mode != "sampled"
            self.distillation_gradient_ratio = DEFAULT_GRADIENT_RATIO if adapter else 0.0
            if adapter and self.distillation_gradient_window is None:
                self.distillation_gradient_window = DEFAULT_GRADIENT_WINDOW
        if self.distillation_gradient_capped is None:  # a ratio set by hand is taken as stated
            self.distillation_gradient_capped = default_balance and copy_adapter and self.distillation_gradient_ratio > 0
        self._teacher_auto = {name: getattr(self, name) for name in chosen}
        inert_swap = bool(self.e_step_swapped_feedback) and self.feedback_only_without_solution
        self._warn_once(
            "_warned_inert_swap",
            inert_swap and not self.e_step_drops_solutions,
            "e_step_swapped_feedback > 0 with feedback_only_without_solution=True and e_step_solutions=True: the "
            "E-step's successes are shown a sibling's solution and no critique, so the swapped-feedback term "
            "has nothing to swap. Set feedback_only_without_solution=False or e_step_solutions=False.",
        )
        if self.e_step_mixed_contexts and not self.e_step_drops_solutions:
            raise ValueError(
                "e_step_mixed_contexts=True mixes the E-step's critique-alone contexts (e_step_solutions=False) with "
                "the M-step's, which show a successful sibling's solution: set e_step_solutions=False and keep "
                "use_sibling_solutions=True."
            )
        _check_choice("e_step_reference", self.e_step_reference, E_STEP_REFERENCES)
        if self.e_step_chunk_size and self.teacher_mode not in ("shared", "adapter"):
            raise ValueError(
                "e_step_chunk_size applies to the teachers an E-step trains (teacher_mode='shared' or 'adapter'), "
                f"not to teacher_mode={self.teacher_mode!r}."
            )
        if self.e_step and self.teacher_mode in ("frozen", "ema"):
            raise ValueError(
                f"teacher_mode={self.teacher_mode!r} is a passive teacher: it cannot be trained by the E-step. Set "
                "e_step=False (passive self-distillation) or use teacher_mode='shared' or 'adapter'."
            )
        if self.e_step and self.em_schedule == "sequential" and self.teacher_mode != "adapter":
            raise ValueError(
                "em_schedule='sequential' updates the teacher before the student on each batch, which needs a "
                "teacher with its own parameters: use teacher_mode='adapter' (with PEFT), or em_schedule='joint'."
            )

    def _warn_once(self, flag: str, condition: bool, message: str, *args) -> None:
        """Log `message` when `condition` holds, once per config: the trainer resolves a config again that its
        construction resolved already (`flag` remembers whether the previous resolution warned)."""
        warned = getattr(self, flag, False)
        setattr(self, flag, condition)
        if condition and not warned:
            logging.getLogger(__name__).warning(message, *args)

    @property
    def e_step_drops_solutions(self) -> bool:
        """Whether the E-step's teacher contexts leave out the demonstrations the M-step's show."""
        return self.use_sibling_solutions and not self.e_step_solutions

    @classmethod
    def paper_preset(cls, **overrides) -> VPDConfig:
        """The paper-faithful configuration: BCO (`sigmoid`) E-loss on successes and failures against the current
        student, each rollout under its own feedback, fixed β_E = 0.1, one E-step every 5 steps, reverse-KL M-step,
        shared weights."""
        preset = dict(
            teacher_mode="shared",
            e_step=True,
            e_step_loss="sigmoid",
            e_step_reference="student",
            e_step_negatives=True,
            e_step_beta=0.1,
            e_step_pairing="self",
            trust_region_target_kl=None,
            e_step_every=5,
            distillation_alpha=1.0,
        )
        preset.update(overrides)
        return cls(**preset)


# The fields whose default depends on the teacher mode, `teacher_mode` itself first (`_resolve_teacher_fields`).
_TEACHER_DEFAULTS = (
    "teacher_mode", "e_step_solutions", "e_step_reference", "feedback_only_without_solution", "e_step_mixed_contexts",
    "distillation_gradient_ratio", "distillation_gradient_window", "distillation_gradient_capped",
)
# the gradient balance a teacher adapter gets by default: r and the calibration window (a full-weights student's capped)
DEFAULT_GRADIENT_RATIO = 2 / 3
DEFAULT_GRADIENT_WINDOW = 10


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


_TEMPLATE_FIELDS = {
    "teacher_template": {"prompt", "attempt", "feedback", "contrast", "solution"},
    "attempt_template": {"attempt"},
    "feedback_template": {"feedback"},
    "solution_template": {"solution"},
    "contrast_template": {"contrast"},
}


def _check_template(name: str, template: str) -> None:
    """Reject unknown placeholders now rather than with a KeyError in the middle of a run."""
    import string

    allowed = _TEMPLATE_FIELDS[name]
    for _, placeholder, _, _ in string.Formatter().parse(template):
        if placeholder is not None and placeholder not in allowed:
            raise ValueError(f"{name} has an unknown placeholder {{{placeholder}}}; allowed: {sorted(allowed)}.")
