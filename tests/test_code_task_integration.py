"""VPDTrainer on a tiny code task: the code verifier is both the reward and the feedback source, and each program
runs once per completion (the feedback call reuses the reward call's result)."""

from datasets import Dataset

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer
from trl_vpd.verifiers import CodeVerifier


def test_vpd_trains_with_code_verifier_reward_and_feedback(tmp_path):
    tokenizer = build_tiny_tokenizer()
    verifier = CodeVerifier(timeout=2.0, workers=2)
    runs_during_feedback = []

    def feedback(**kwargs):
        before = verifier.executions
        out = verifier.feedback_func(**kwargs)
        runs_during_feedback.append(verifier.executions - before)
        return out

    dataset = Dataset.from_dict(
        {
            "prompt": ["Write add(a, b) returning a + b.", "Write neg(x) returning -x."],
            "tests": ["assert add(1, 2) == 3\nassert add(0, 0) == 0", "assert neg(2) == -2"],
        }
    )
    args = VPDConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                     max_completion_length=8, max_steps=2, learning_rate=1e-2, report_to="none",
                     save_strategy="no", logging_steps=1, e_step_every=1)  # fmt: skip
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=verifier.reward_func,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        feedback_funcs=feedback,
    )
    trainer.train()
    # An untrained model writes no valid program: every completion fails and gets diagnostic feedback.
    assert [e["vpd/feedback_coverage"] for e in trainer.state.log_history if "vpd/feedback_coverage" in e] == [1.0, 1.0]
    assert all(e["rewards/reward/mean"] == 0.0 for e in trainer.state.log_history if "rewards/reward/mean" in e)
    # The reward call ran the programs (one assert-test string per row → one run per completion); the feedback call
    # found every result in the cache and ran nothing.
    assert verifier.executions > 0
    assert runs_during_feedback == [0, 0]
