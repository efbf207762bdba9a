"""Cost of VPD per optimizer step: generation time, training time (the step minus generation) and peak memory, against
TRL's GRPOTrainer and TRL's experimental SDPOTrainer on the same batch.

    python -m benchmarks.cost                                  # CPU, tiny model (a few minutes)
    python -m benchmarks.cost --size tiny                      # smoke test (CI)
    python -m benchmarks.cost --device cuda --preset gpu --out cost_gpu.md   # ~290M-parameter model, LoRA, QLoRA

Every configuration is rebuilt from the same initial weights for each repeat, the order of configurations rotates
between repeats, and the first `--warmup` steps of each run are dropped. Ratios are taken between medians of the same
run. Memory: `torch.cuda.max_memory_allocated` on GPU; on CPU the kernel's resident-set high-water mark (VmHWM, reset
right before `train()`) above the resident set at that moment, each configuration in a fresh process (`--isolate`, the
CPU default) so that memory freed by one run and kept by the allocator cannot hide the next one's peak.

    python -m benchmarks.cost --preset cpu_mem      # CPU, 32k vocabulary: where the M-step's logits show in memory
    python -m benchmarks.cost --preset cpu_vocab    # CPU, 151,936-token vocabulary (Qwen3's) on a tiny decoder
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from . import task
from .trainers import build_trainer, lora_config

PRESETS = {
    # model dims, batch, lengths, steps
    "tiny": dict(hidden=32, layers=2, inter=64, heads=4, kv=2, vocab=None, gens=4, prompts=1, completion=6, steps=1, warmup=1, repeats=1),
    "cpu": dict(hidden=64, layers=2, inter=128, heads=4, kv=2, vocab=None, gens=8, prompts=2, completion=16, steps=2, warmup=1, repeats=2),
    # a vocabulary as large as real tokenizers' (32k) and 1k completion tokens per step, so that full-vocabulary logits
    # (128 MiB per fp32 copy) dominate the training memory, as they do on real models
    "cpu_mem": dict(hidden=256, layers=2, inter=512, heads=4, kv=2, vocab=32768, gens=8, prompts=2, completion=64, steps=1, warmup=1, repeats=1),
    # a deeper model with the tokenizer's small vocabulary: the decoder stack, not the LM head, does the work, as on a
    # GPU, where TRL's fused head projects only completion positions (on the CPU it projects every position)
    "cpu_body": dict(hidden=256, layers=8, inter=1024, heads=4, kv=2, vocab=None, gens=8, prompts=2, completion=64, steps=2, warmup=1, repeats=1),
    # a real vocabulary (Qwen3's 151,936 tokens) on a tiny decoder, as in TRL's test models: the LM head's projections
    # (hidden × vocab per projected token) then do nearly all the work; on the CPU TRL's fused head projects every
    # position of a sequence, on a GPU only the completion's (`results/cost_vocab151936.md`)
    "cpu_vocab": dict(hidden=64, layers=2, inter=128, heads=4, kv=2, vocab=151936, gens=8, prompts=2, completion=16, steps=1, warmup=1, repeats=1),
    "gpu": dict(hidden=1024, layers=20, inter=2816, heads=16, kv=4, vocab=32768, gens=8, prompts=4, completion=128, steps=2, warmup=1, repeats=2),
}

def _vpd(teacher: str, mode: str, e_step: bool, peft: str | None = None, chunk: int | None = 0, pairing="self",
         **more):
    """A VPD configuration: teacher mode, M-step mode, E-step every step or off. `chunk` is `e_step_chunk_size`;
    configurations that do not name one run the E-step in one pass, as every row recorded before the chunked E-step
    became the default (adapter teacher first, then the shared one) did. `pairing` is pinned ("self", every row
    recorded before group pairing became the default) so that those rows stay reproducible, as are the demonstrations
    and the student reference of the E-step (recorded before a teacher adapter defaulted to critiques alone and to the
    passive teacher as its reference), and the constant distillation weight (before a LoRA student's teacher adapter
    defaulted to the gradient balance)."""
    every = {"e_step_every": 1} if e_step else {}
    extra = {"teacher_mode": teacher, "e_step": e_step, **every, "distillation_mode": mode, "e_step_chunk_size": chunk,
             "e_step_pairing": pairing, "e_step_solutions": True, "e_step_reference": "student",
             "distillation_gradient_ratio": 0.0, **more}
    return ("vpd", extra, peft)


# name -> (family, extra config, peft: None | "lora" | "qlora"). Names: vpd_<teacher>[_qlora]_<M-step>_<E1 | Eoff>
# [_c4 | _auto]: E-step every step or off; chunks of 4 rollouts, or the library's default (auto).
CONFIGS = {
    "grpo": ("grpo", {}, None),
    "sdpo": ("sdpo", {"distillation_mode": "topk_logits", "distillation_topk": 100, "distillation_weight": 0.5}, None),
    "vpd_shared_topk_E1": _vpd("shared", "topk", True),
    "vpd_shared_topk_Eoff": _vpd("shared", "topk", False),
    "vpd_shared_full_E1": _vpd("shared", "full", True),
    "vpd_shared_sampled_E1": _vpd("shared", "sampled", True),
    "grpo_lora": ("grpo", {}, "lora"),
    "vpd_adapter_topk_E1": _vpd("adapter", "topk", True, "lora"),
    "grpo_qlora": ("grpo", {}, "qlora"),
    "vpd_adapter_qlora_topk_E1": _vpd("adapter", "topk", True, "qlora"),
    "vpd_adapter_sampled_E1": _vpd("adapter", "sampled", True, "lora"),
    "vpd_adapter_qlora_sampled_E1": _vpd("adapter", "sampled", True, "qlora"),
    # the E-step's teacher forward/backward 4 rollouts at a time (`e_step_chunk_size`): a 16-rollout micro-batch of
    # teacher contexts ~3.5× the student's sequence then holds ~the student's activations
    "vpd_adapter_topk_E1_c4": _vpd("adapter", "topk", True, "lora", chunk=4),
    "vpd_adapter_qlora_topk_E1_c4": _vpd("adapter", "topk", True, "qlora", chunk=4),
    # the library default since the chunked E-step landed: as many rollouts per teacher pass as keep its tokens within
    # the student micro-batch's
    "vpd_adapter_topk_E1_auto": _vpd("adapter", "topk", True, "lora", chunk=None),
    "vpd_adapter_qlora_topk_E1_auto": _vpd("adapter", "topk", True, "qlora", chunk=None),
    # the shared teacher's default since its E-step is chunked too
    "vpd_shared_topk_E1_auto": _vpd("shared", "topk", True, chunk=None),
    "vpd_shared_full_E1_auto": _vpd("shared", "full", True, chunk=None),
    "vpd_shared_sampled_E1_auto": _vpd("shared", "sampled", True, chunk=None),
    # issue 13's defaults: group pairing (its E-step scores the group's contexts, which the M-step cannot reuse)
    "vpd_shared_topk_E1_group_auto": _vpd("shared", "topk", True, chunk=None, pairing="group"),
    # the E-step's teacher context detached (`e_step_detach_context`): only the completion runs with gradient. It needs
    # gradient checkpointing off, so it is compared with `--no-gradient-checkpointing` runs of every row. Prediction,
    # written before the run (`--preset cpu_body --repeats 2 --no-gradient-checkpointing --configs grpo,
    # vpd_shared_topk_E1_group_auto,vpd_shared_topk_E1_group_auto_detach,grpo_lora,vpd_adapter_topk_E1_auto,
    # vpd_adapter_topk_E1_auto_detach`): L4. each detached row's train time is ≤ 0.8× its undetached row's (the teacher
    # contexts, a sibling's 64-token solution plus prompt and feedback, are ~3× the completion), its peak no higher.
    # Outcome (cost_detach.md): held for time (train part 2.88 → 2.10 s shared, 0.73×; 2.34 → 1.62 s adapter, 0.69×;
    # step 3.00× → 2.35× and 2.35× → 1.83× GRPO's), for the adapter's peak (−13 %), not the shared teacher's (+2 %:
    # one pass over the micro-batch where the whole contexts ran in chunks).
    "vpd_shared_topk_E1_group_auto_detach": _vpd("shared", "topk", True, chunk=None, pairing="group",
                                                 e_step_detach_context=True),
    "vpd_adapter_topk_E1_auto_detach": _vpd("adapter", "topk", True, "lora", chunk=None, e_step_detach_context=True),
    # A teacher adapter's default E-step on critiques alone (`e_step_solutions=None` → False) against the same with the
    # demonstrations, both with group pairing (the default). Prediction, written before the run (`--preset cpu_body
    # --repeats 2 --configs grpo_lora,vpd_adapter_topk_E1_group_auto,vpd_adapter_topk_E1_group_auto_esol`): C1. the
    # critique-only row's train part is within ±10 % of the other's (the same passes: group pairing's E-step contexts
    # already differ from the M-step's; one more tokenization), its peak no higher (shorter contexts).
    # Outcome (cost_adapter_esol.md): refuted for the time, in the cheaper direction — train part 3.47 s against 4.33 s
    # (0.80×: the E-step's contexts lose the sibling's 64-token solution), step 2.50× GRPO+LoRA's against 2.96×; peak
    # 1086 against 1133 MiB (held).
    "vpd_adapter_topk_E1_group_auto": _vpd("adapter", "topk", True, "lora", chunk=None, pairing="group"),
    "vpd_adapter_topk_E1_group_auto_esol": _vpd("adapter", "topk", True, "lora", chunk=None, pairing="group",
                                                e_step_solutions=False),
    # The adapter default since: the passive teacher as the E-step's reference (`e_step_reference="initial_teacher"`),
    # a forward of the base weights on the E-step's teacher contexts where the student reference read the bare prompt.
    # Prediction, written before the run (`--preset cpu_body --repeats 2 --configs grpo_lora,
    # vpd_adapter_topk_E1_group_auto_esol,vpd_adapter_topk_E1_group_auto_esol_init`): C2. the new row's train part is
    # at most 1.15× the esol row's (one forward without gradient over contexts ~2× the student's sequence, beside a
    # step of several forwards and backwards), its peak within ±5 %.
    # Outcome (cost_adapter_init.md): held for the time — train part 3.78 s against 3.60 s (1.05×), step 2.56× GRPO+LoRA's
    # against 2.50×; refuted for the peak, in the lower direction: 1016 against 1157 MiB (−12 %), not explained here.
    "vpd_adapter_topk_E1_group_auto_esol_init": _vpd("adapter", "topk", True, "lora", chunk=None, pairing="group",
                                                     e_step_solutions=False, e_step_reference="initial_teacher"),
    # a full-weights student's teacher adapter (a LoRA on a frozen copy of the initial model) with the settings of
    # benchmarks/trainers.py's vpd_i13_copy_adapter_fows_mix (Z86): mixed E-step contexts, critiques only where no
    # sibling succeeded, h against the passive teacher
    "vpd_copyadapter_topk_E1_group_auto_fows_mix": _vpd("adapter", "topk", True, chunk=None, pairing="group",
                                                        e_step_solutions=False, e_step_reference="initial_teacher",
                                                        e_step_mixed_contexts=True,
                                                        feedback_only_without_solution=True),
    # The same with the gradient balance (`distillation_gradient_ratio`): each step reads both M-step terms' gradients
    # at the backbone outputs, one pass back through the output head per term (GRPO's fused head and the top-k
    # M-step's recomputed projection). Prediction, written before the runs (`--preset cpu_body --repeats 2 --configs
    # grpo,vpd_copyadapter_topk_E1_group_auto_fows_mix,vpd_copyadapter_topk_E1_group_auto_fows_mix_gr1 --out
    # benchmarks/results/cost_gradratio_body.md`; `--preset cpu_vocab` the same, `--out
    # benchmarks/results/cost_gradratio_vocab.md`):
    #   C3. the balance's train part is ≤ 1.10× the default's on `cpu_body` (a small head beside 8 layers) and
    #       1.1-1.4× on `cpu_vocab` (the head does most of the work there; two more head passes among the default's ~15).
    # Outcome (cost_gradratio_{body,vocab}.md): held — `cpu_body` train part 2.20 s against 2.42 s (0.91×, within the
    # noise of 2 × 2 steps), `cpu_vocab` 11.16 s against 9.01 s (1.24×, one step), peaks no higher (943 / 1813 MiB
    # against 967 / 1860).
    "vpd_copyadapter_topk_E1_group_auto_fows_mix_gr1": _vpd("adapter", "topk", True, chunk=None, pairing="group",
                                                            e_step_solutions=False, e_step_reference="initial_teacher",
                                                            e_step_mixed_contexts=True,
                                                            feedback_only_without_solution=True,
                                                            distillation_gradient_ratio=1.0),
    # The full-weights default's balance (calibrated, capped) with a window of one micro-batch, complete after the
    # warm-up step, so that the measured step is one after calibration, where the norms are no longer read (they were
    # read on every step before 2026-12-01). Prediction, written before the run (`--preset cpu_vocab --repeats 1
    # --configs grpo,vpd_copyadapter_topk_E1_group_auto_fows_mix,vpd_copyadapter_topk_E1_group_auto_fows_mix_gr1,
    # vpd_copyadapter_topk_E1_group_auto_fows_mix_gcw1 --out benchmarks/results/cost_gradcalibrated_vocab.md`):
    #   C4. `_gcw1`'s train part within ±10 % of the constant weight's (`_gr1`, reading every step, 1.1-1.4×).
    # Outcome (cost_gradcalibrated_vocab.md): held — train part 9.05 s against the constant weight's 9.70 s (0.93×, one
    # step each) where `_gr1`, still reading, took 11.43 s (1.18×); peaks alike (1787 / 1827 / 1801 MiB).
    "vpd_copyadapter_topk_E1_group_auto_fows_mix_gcw1": _vpd("adapter", "topk", True, chunk=None, pairing="group",
                                                             e_step_solutions=False, e_step_reference="initial_teacher",
                                                             e_step_mixed_contexts=True,
                                                             feedback_only_without_solution=True,
                                                             distillation_gradient_ratio=2 / 3,
                                                             distillation_gradient_window=1,
                                                             distillation_gradient_capped=True),
    # the same without E-step (the teacher adapter is still there): with the E1 rows, the cost of the default schedule
    "vpd_adapter_topk_Eoff": _vpd("adapter", "topk", False, "lora"),
    "vpd_adapter_qlora_topk_Eoff": _vpd("adapter", "topk", False, "qlora"),
    # the rest of the matrix (teacher mode × M-step mode × E-step on / off), so that every `_E1` row has its `_Eoff`
    # pair and every mode a default-schedule row
    "vpd_shared_full_Eoff": _vpd("shared", "full", False),
    "vpd_shared_sampled_Eoff": _vpd("shared", "sampled", False),
    "vpd_adapter_full_E1": _vpd("adapter", "full", True, "lora"),
    "vpd_adapter_full_E1_auto": _vpd("adapter", "full", True, "lora", chunk=None),
    "vpd_adapter_full_Eoff": _vpd("adapter", "full", False, "lora"),
    "vpd_adapter_sampled_E1_auto": _vpd("adapter", "sampled", True, "lora", chunk=None),
    "vpd_adapter_sampled_Eoff": _vpd("adapter", "sampled", False, "lora"),
    "vpd_adapter_qlora_sampled_E1_auto": _vpd("adapter", "sampled", True, "qlora", chunk=None),
    "vpd_adapter_qlora_sampled_Eoff": _vpd("adapter", "sampled", False, "qlora"),
}
BASELINE = {None: "grpo", "lora": "grpo_lora", "qlora": "grpo_qlora"}


def coin_reward(completions, **kwargs) -> list[float]:
    """1 for about half of the completions (by a checksum of their text), else 0. The benchmark's untrained model
    solves nothing, and with equal rewards in every group the E-step has no signal and skips its backward: a cost run
    scored by correctness would not measure the E-step at all."""
    return [float(zlib.crc32(task.text_of(c).encode()) % 2) for c in completions]


def proc_status(key: str) -> int:
    """A byte count from /proc/self/status (VmRSS, VmHWM, ...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def reset_hwm() -> bool:
    """Resets this process's resident-set high-water mark (VmHWM); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak resident set size (bytes) of this process while active, sampled by a thread."""

    def __init__(self, interval=0.002):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        self.base = self.peak = self.rss()
        self.hwm = reset_hwm()  # the kernel's high-water mark is exact, where sampling can miss a short spike
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.hwm:
            self.peak = max(self.peak, proc_status("VmHWM"))


def build_model(p, tok, device, model_dir):
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    vocab = p["vocab"] or len(tok)
    config = Qwen2Config(
        vocab_size=vocab, hidden_size=p["hidden"], num_hidden_layers=p["layers"], num_attention_heads=p["heads"],
        num_key_value_heads=p["kv"], intermediate_size=p["inter"], max_position_embeddings=4096,
        tie_word_embeddings=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    if device == "cuda":
        model = model.to(torch.bfloat16)
    model.save_pretrained(model_dir)
    return sum(x.numel() for x in model.parameters())


def load_model(model_dir, device, peft):
    from transformers import AutoModelForCausalLM

    if peft == "qlora":
        from transformers import BitsAndBytesConfig

        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        device_map = {"": 0} if device == "cuda" else {"": "cpu"}  # bitsandbytes ≥ 0.48 runs nf4 on the CPU too
        return AutoModelForCausalLM.from_pretrained(model_dir, quantization_config=q, dtype=torch.bfloat16, device_map=device_map)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)


def make_trainer(name, p, tok, dataset, model_dir, device, out_dir):
    """Configuration `name` of `CONFIGS` on the preset `p`, loaded fresh from `model_dir`."""
    family, extra, peft = CONFIGS[name]
    model = load_model(model_dir, device, peft)
    common = dict(
        output_dir=str(out_dir / name), per_device_train_batch_size=p["prompts"] * p["gens"],
        num_generations=p["gens"], max_completion_length=p["completion"], max_steps=p["warmup"] + p["steps"],
        learning_rate=1e-5, report_to="none", save_strategy="no", logging_steps=10**6, seed=0, disable_tqdm=True,
        log_level="error",
        use_cpu=device == "cpu", bf16=device == "cuda", gradient_accumulation_steps=1,
        # a fixed completion length, so every trainer does the same work per step
        generation_kwargs={"min_new_tokens": p["completion"]}
        | ({"suppress_tokens": list(range(len(tok), p["vocab"]))} if p["vocab"] else {}),
    )
    if family == "vpd":
        extra = {"distillation_topk": 100, **extra}
    if peft == "qlora" or not p.get("gradient_checkpointing", True):
        common["gradient_checkpointing"] = False
    return build_trainer(
        family, model, tok, dataset, common, extra, lora_config() if peft else None, reward_func=coin_reward
    )


def run_one(name, p, tok, dataset, model_dir, device, out_dir):
    trainer = make_trainer(name, p, tok, dataset, model_dir, device, out_dir)
    times = {"gen": [], "step": []}
    state = {"gen": 0.0}
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    original = trainer._generate

    def timed_generate(*a, **k):
        sync()
        t = time.perf_counter()
        out = original(*a, **k)
        sync()
        state["gen"] += time.perf_counter() - t
        return out

    trainer._generate = timed_generate
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, st, control, **kw):
            sync()
            state["gen"], state["t0"] = 0.0, time.perf_counter()

        def on_step_end(self, args, st, control, **kw):
            sync()
            if st.global_step > p["warmup"]:
                times["step"].append(time.perf_counter() - state["t0"])
                times["gen"].append(state["gen"])

    trainer.add_callback(StepTimer())
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        trainer.train()
        peak = torch.cuda.max_memory_allocated()
    else:
        with PeakRSS() as rss:
            trainer.train()
        base, peak = rss.base, rss.peak
    del trainer
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return times, peak, base


def run_isolated(name, preset, args, model_dir):
    """`run_one` in a fresh Python process (same preset and model files)."""
    import subprocess

    cmd = [sys.executable, "-m", "benchmarks.cost", "--child", name, "--model-dir", str(model_dir),
           "--preset", preset, "--device", args.device]
    cmd += [] if args.gradient_checkpointing else ["--no-gradient-checkpointing"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"child exited with {done.returncode}: {tail}")
    result = json.loads(lines[-1][len("RESULT "):])
    return result["times"], result["peak"], result["base"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--preset", "--size", dest="preset", default=None, choices=list(PRESETS))
    ap.add_argument("--configs", default=None, help="comma-separated subset of: " + ",".join(CONFIGS))
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", default=None, help="Markdown report (default benchmarks/results/cost_<preset>.md)")
    ap.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                    help="each configuration in a fresh process (default on CPU, where memory is the process's RSS)")
    ap.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=True,
                    help="TRL's default (on); off for every configuration with --no-gradient-checkpointing (which "
                    "e_step_detach_context needs)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--model-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.isolate is None:
        args.isolate = args.device == "cpu"
    preset = args.preset or ("gpu" if args.device == "cuda" else "cpu")
    p = dict(PRESETS[preset])
    if args.repeats:
        p["repeats"] = args.repeats
    p["gradient_checkpointing"] = args.gradient_checkpointing
    names = args.configs.split(",") if args.configs else list(CONFIGS)
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        print("bitsandbytes not installed: skipping the QLoRA configurations", file=sys.stderr)
        names = [n for n in names if CONFIGS[n][2] != "qlora"]
    try:
        import trl.experimental.sdpo  # noqa: F401
    except ImportError:
        names = [n for n in names if n != "sdpo"]

    from .tinylm import build_tokenizer

    tok = build_tokenizer()
    problems = task.make_problems(64, seed=1)
    dataset = task.to_dataset(problems)
    if args.child:  # one configuration, in this fresh process; the parent reads the last line
        model_dir = Path(args.model_dir)
        times, peak, base = run_one(args.child, p, tok, dataset, model_dir, args.device, model_dir.parent)
        print("RESULT " + json.dumps({"times": times, "peak": peak, "base": base}), flush=True)
        return
    tmp = Path(tempfile.mkdtemp(prefix="vpd-cost-"))
    n_params = build_model(p, tok, args.device, tmp / "model")
    print(f"model: {n_params / 1e6:.1f}M parameters; configs: {names}", flush=True)

    results = {n: {"gen": [], "step": [], "peak": [], "base": []} for n in names}
    failed = {}
    started = time.time()
    for r in range(p["repeats"]):
        order = names[r % len(names):] + names[: r % len(names)]
        if r % 2:
            order = order[::-1]
        for name in order:
            if name in failed:
                continue
            try:
                if args.isolate:
                    times, peak, base = run_isolated(name, preset, args, tmp / "model")
                else:
                    times, peak, base = run_one(name, p, tok, dataset, tmp / "model", args.device, tmp)
            except Exception as exc:  # report and go on: one broken configuration must not hide the others
                failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                print(f"[{name}] failed: {failed[name]}", file=sys.stderr, flush=True)
                continue
            res = results[name]
            res["gen"] += times["gen"]
            res["step"] += times["step"]
            res["peak"].append(peak)
            res["base"].append(base)
            print(f"[repeat {r}] {name}: step {statistics.median(times['step']):.3f}s "
                  f"(gen {statistics.median(times['gen']):.3f}s), peak {peak / 2**20:.0f} MiB", flush=True)
    report = make_report(results, failed, p, preset, args, n_params, time.time() - started)
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"cost_{preset}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    (out.with_suffix(".json")).write_text(json.dumps({"preset": p, "results": results, "failed": failed}, indent=1))
    print(f"\nwritten {out}\n")
    print(summary_table(results, names))


def _stats(res):
    step = statistics.median(res["step"])
    gen = statistics.median(res["gen"])
    train = statistics.median([s - g for s, g in zip(res["step"], res["gen"])])
    mem = max(pk - b for pk, b in zip(res["peak"], res["base"])) if res["peak"] else float("nan")
    peak = max(res["peak"])
    return step, gen, train, mem, peak


def summary_table(results, names, device_is_cuda=None) -> str:
    ok = {n: _stats(results[n]) for n in names if results.get(n) and results[n]["step"]}
    peft_of = {n: CONFIGS[n][2] for n in ok}
    # The default schedule runs the E-step on one step in 5: its mean step cost is 0.8·(E off) + 0.2·(E every step).
    # Measured steps never hit an E-step of `e_step_every=5` in a short run, so this row is derived, not measured;
    # its peak memory is the E-step run's.
    for on in [n for n in ok if n.endswith(("_E1", "_E1_auto"))]:
        stem, _, chunking = on.rpartition("_E1")
        off = stem + "_Eoff"
        if off in ok:
            derived = f"{stem}_E5{chunking}(derived)"
            mixed = tuple(0.8 * a + 0.2 * b for a, b in zip(ok[off], ok[on]))
            ok[derived] = mixed[:3] + (ok[on][3], ok[on][4])
            peft_of[derived] = CONFIGS[on][2]
    lines = [
        "| config | step s | gen s | train s | peak MiB | growth MiB | step ×base | train ×base | mem ×base | growth ×base "
        "| step ×SDPO | train ×SDPO |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, (step, gen, train, mem, peak) in ok.items():
        peft = peft_of[n]
        b = ok.get(BASELINE[peft])
        s = ok.get("sdpo") if peft is None else None
        fmt = lambda x: f"{x:.2f}" if x == x else "—"  # noqa: E731
        lines.append(
            f"| {n} | {step:.3f} | {gen:.3f} | {train:.3f} | {peak / 2**20:.0f} | {mem / 2**20:.0f} | "
            + (f"{fmt(step / b[0])} | {fmt(train / b[2])} | {fmt(peak / b[4])} | {fmt(mem / b[3])} | " if b else "— | — | — | — | ")
            + (f"{fmt(step / s[0])} | {fmt(train / s[2])} |" if s else "— | — |")
        )
    return "\n".join(lines)


def make_report(results, failed, p, preset, args, n_params, seconds) -> str:
    import transformers
    import trl

    import trl_vpd  # noqa: F401

    dev = torch.cuda.get_device_name(0) if args.device == "cuda" else f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    names = [n for n in CONFIGS if n in results]
    lines = [
        f"# VPD cost benchmark ({preset} preset, {args.device})",
        "",
        f"Command: `python -m benchmarks.cost {' '.join(sys.argv[1:])}`  ",
        f"Machine: {dev}; Python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, trl {trl.__version__}.  ",
        f"Model: Qwen2-shaped, {n_params / 1e6:.1f}M parameters (hidden {p['hidden']}, {p['layers']} layers, vocab "
        f"{p['vocab'] or 'tokenizer'}), {'bf16' if args.device == 'cuda' else 'fp32'}; batch {p['prompts']} prompts × "
        f"{p['gens']} generations, completions forced to {p['completion']} tokens; {p['steps']} measured steps after "
        f"{p['warmup']} warm-up, × {p['repeats']} repeats (order rotated). Wall time {seconds:.0f}s.",
        "",
        "step = median optimizer-step time; gen = median time inside `_generate` (sampling only); train = median of "
        "step − gen (rewards, feedback, teacher context, log-probs, losses, backward, optimizer). ×base: against GRPO "
        "with the same PEFT setting (full / LoRA / QLoRA); ×SDPO: against TRL's SDPOTrainer (EMA teacher, top-100 "
        "logits, weight 0.5, per-rollout verifier feedback). mem ×base: peak against the baseline's peak; growth: "
        "peak minus the memory in use right before `train()` (model, data and trainer loaded), and its ratio. Peak: " + (
            "`torch.cuda.max_memory_allocated`." if args.device == "cuda" else
            "the process's resident-set high-water mark during `train()`"
            + (", each configuration in a fresh process."
               if args.isolate else " (one process for all configurations: memory freed by one run and kept by the "
               "allocator can hide the next one's peak; read it as a rough check only).")),
        "",
        summary_table(results, names),
        "",
    ]
    if failed:
        lines += ["Failed configurations:", ""] + [f"- `{n}`: {e}" for n, e in failed.items()] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
