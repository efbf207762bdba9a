"""Pytest plugin that runs TRL's GRPO tests offline, with TRL's classes or with ours.

Load it with ``-p tests.trl_suite.plugin`` (``python -m tests.trl_suite`` does). Options:

* ``--trl-suite-mode trl|vpd``: ``vpd`` replaces ``GRPOTrainer``/``GRPOConfig`` with ``trl_vpd.VPDTrainer``/
  ``trl_vpd.VPDConfig`` in ``trl``, ``trl.trainer`` and in every test module's namespace.
* ``--trl-suite-json PATH``: write ``{nodeid: {"outcome", "message", "trainers"}}`` there at the end of the session.

In both modes the Hub ids the tests use resolve to local stand-ins (``standins.py``): ``from_pretrained`` of models,
configs, tokenizers and processors, and ``datasets.load_dataset``. A Hub model without a stand-in skips the test with
the reason. Tests that need a GPU, vLLM or a vision-language model are skipped with the reason, in both modes.
"""

from __future__ import annotations

import inspect
import json
import os
from functools import wraps

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.trl_suite import standins

SKIP_VISION = "vision-language model: no offline stand-in for TRL's tiny VLMs / image datasets"
SKIP_VLLM = "needs vLLM (not installable on this CPU-only machine)"
SKIP_GPU = "needs a GPU"
# Tests that rely on the real tiny models' 151k vocabulary get the `wide` stand-in (32k tokens).
NEEDS_WIDE_VOCAB = {
    # "all completions truncated" needs an untrained model that (almost) never samples EOS: 1 in 151k, not 1 in 261.
    "test_train_with_mask_truncated_completions_all_masked",
}
SKIP_REMOTE_CODE = "needs Hub-hosted custom modeling code (trust_remote_code)"


def pytest_addoption(parser):
    group = parser.getgroup("trl_suite")
    group.addoption("--trl-suite-mode", choices=["trl", "vpd"], default="trl")
    group.addoption("--trl-suite-json", default=None)


def _skip_reason(item) -> str | None:
    name = item.nodeid.lower()
    cls = getattr(item, "cls", None)
    source = ""
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        pass
    if (cls is not None and "vlm" in cls.__name__.lower()) or "vlm" in name or "multimodal" in name:
        return SKIP_VISION
    if "zen-image" in source or "zen-multi-image" in source or "ForConditionalGeneration" in source:
        return SKIP_VISION
    if "use_vllm=True" in source:
        return SKIP_VLLM
    if cls is not None and cls.__name__.endswith("Slow"):
        return SKIP_GPU
    if "tiny-RemoteForCausalLM" in source:
        return SKIP_REMOTE_CODE
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = _skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def _trl_suite_standins(tmp_path_factory):
    return standins.StandIns(tmp_path_factory.mktemp("standins"))


def _patch_from_pretrained(monkeypatch, cls, resolve):
    original = cls.__dict__.get("from_pretrained")
    if original is None:  # inherited: wrap what the class sees
        original = classmethod(cls.from_pretrained.__func__)
    func = original.__func__

    @wraps(func)
    def from_pretrained(klass, name_or_path, *args, **kwargs):
        return func(klass, resolve(name_or_path), *args, **kwargs)

    monkeypatch.setattr(cls, "from_pretrained", classmethod(from_pretrained))


@pytest.fixture(autouse=True)
def _trl_suite(request, monkeypatch, _trl_suite_standins):
    """Hub ids -> stand-ins; in vpd mode, GRPOTrainer/GRPOConfig -> VPDTrainer/VPDConfig; record trainer classes."""
    import datasets
    import torch
    import transformers
    import trl
    from transformers import (
        GenerationConfig,
        PretrainedConfig,
        PreTrainedModel,
        PreTrainedTokenizerBase,
        ProcessorMixin,
    )
    from transformers.models.auto.auto_factory import _BaseAutoModelClass

    torch.set_num_threads(int(os.environ.get("TRL_SUITE_THREADS", "1")))
    if not torch.cuda.is_available():  # as TRL's conftest does: configs default to bf16, which a CPU rejects
        from trl.trainer.base_config import _BaseConfig

        post_init = _BaseConfig.__post_init__

        def __post_init__(self):
            self.use_cpu = True
            post_init(self)

        monkeypatch.setattr(_BaseConfig, "__post_init__", __post_init__)
    try:
        source = inspect.getsource(request.function)
    except (OSError, TypeError):
        source = ""
    flavor = "wide" if request.function.__name__ in NEEDS_WIDE_VOCAB else "small"

    def resolve(name_or_path):
        if isinstance(name_or_path, str) and not os.path.exists(name_or_path) and "/" in name_or_path:
            local = _trl_suite_standins.model_dir(name_or_path, flavor)
            if local is None:
                pytest.skip(f"no offline stand-in for Hub model {name_or_path}")
            return local
        return name_or_path

    for cls in (
        PreTrainedModel,
        PretrainedConfig,
        PreTrainedTokenizerBase,
        ProcessorMixin,
        GenerationConfig,
        transformers.AutoConfig,
        transformers.AutoTokenizer,
        transformers.AutoProcessor,
    ):
        _patch_from_pretrained(monkeypatch, cls, resolve)
    for name in dir(transformers):
        if name.startswith("AutoModel"):
            auto = getattr(transformers, name)
            if isinstance(auto, type) and issubclass(auto, _BaseAutoModelClass):
                _patch_from_pretrained(monkeypatch, auto, resolve)

    real_load_dataset = datasets.load_dataset

    @wraps(real_load_dataset)
    def load_dataset(path, name=None, *args, split=None, streaming=False, **kwargs):
        if path in standins.HUB_DATASETS:
            return standins.HUB_DATASETS[path](name, split=split, streaming=streaming)
        if isinstance(path, str) and path.startswith("trl-internal-testing/"):
            pytest.skip(f"no offline stand-in for Hub dataset {path}")
        return real_load_dataset(path, name, *args, split=split, streaming=streaming, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    module = request.module
    if getattr(module, "load_dataset", None) is real_load_dataset:
        monkeypatch.setattr(module, "load_dataset", load_dataset)

    if standins.uses_qwen_ids(source) and getattr(module, "torch", None) is torch:
        idmap = standins.qwen_id_map(standins.build_tokenizer(flavor))
        monkeypatch.setattr(module, "torch", _TorchWithQwenIds(torch, idmap))

    if request.config.getoption("--trl-suite-mode") == "vpd":
        import trl.trainer

        from trl_vpd import VPDConfig, VPDTrainer

        for namespace in (trl, trl.trainer, module):
            if getattr(namespace, "GRPOTrainer", None) is not None:
                monkeypatch.setattr(namespace, "GRPOTrainer", VPDTrainer)
            if getattr(namespace, "GRPOConfig", None) is not None:
                monkeypatch.setattr(namespace, "GRPOConfig", VPDConfig)

    # Which trainer classes the test built (evidence that the swap took effect).
    from trl.trainer.grpo_trainer import GRPOTrainer

    built: list[str] = []
    original_init = GRPOTrainer.__init__

    @wraps(original_init)
    def init(self, *args, **kwargs):
        built.append(type(self).__name__)
        return original_init(self, *args, **kwargs)

    monkeypatch.setattr(GRPOTrainer, "__init__", init)
    yield
    request.node.user_properties.append(("trainers", sorted(set(built))))


class _TorchWithQwenIds:
    """`torch` for a test module whose fake `generate` builds completions from hard-coded Qwen2.5 ids: an integer
    `torch.tensor(...)` holding a Qwen special id (>= 151643) is translated to the stand-in tokenizer's ids."""

    def __init__(self, torch, idmap: dict[int, int]):
        self._torch = torch
        self._idmap = idmap

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def tensor(self, data, *args, **kwargs):
        flat = list(_flatten(data))
        if flat and all(isinstance(x, int) and not isinstance(x, bool) for x in flat) and max(flat) >= 151643:
            data = _map_nested(data, self._idmap)
        return self._torch.tensor(data, *args, **kwargs)


def _flatten(data):
    if isinstance(data, (list, tuple)):
        for x in data:
            yield from _flatten(x)
    else:
        yield data


def _map_nested(data, idmap):
    if isinstance(data, (list, tuple)):
        return [_map_nested(x, idmap) for x in data]
    return idmap.get(data, data)


class _Recorder:
    def __init__(self, path):
        self.path = path
        self.results: dict[str, dict] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report):
        entry = self.results.setdefault(report.nodeid, {"outcome": None, "message": "", "trainers": []})
        for key, value in report.user_properties:
            if key == "trainers":
                entry["trainers"] = list(value)
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
                message = report.wasxfail
            elif report.skipped:
                outcome = "skipped"
                message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            elif report.failed:
                outcome = "failed" if report.when == "call" else "error"
                message = _first_line(report)
            else:
                outcome, message = "passed", ""
            entry.update(outcome=outcome, message=message)
        elif report.when == "teardown" and report.failed and entry["outcome"] == "passed":
            entry.update(outcome="error", message=_first_line(report))
        if report.when == "teardown":  # after every test, so an interrupted run still leaves its results
            self.pytest_sessionfinish(None)

    def pytest_sessionfinish(self, session):
        with open(self.path, "w") as f:
            json.dump(self.results, f, indent=1)


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text[:300]


def _shim_import_utils():
    """TRL's `tests/testing_utils.py` of another TRL version may import `is_*_available` helpers that the installed
    `trl.import_utils` lacks: answer them from whether the package is importable."""
    import importlib.util

    from trl import import_utils

    def __getattr__(name):
        if name.startswith("is_") and name.endswith("_available"):
            package = name[3 : -len("_available")]
            return lambda: importlib.util.find_spec(package) is not None
        raise AttributeError(name)

    if not hasattr(import_utils, "__getattr__"):
        import_utils.__getattr__ = __getattr__


def pytest_configure(config):
    _shim_import_utils()
    path = config.getoption("--trl-suite-json")
    if path and not hasattr(config, "workerinput"):  # the xdist controller (or a plain run) records
        config.pluginmanager.register(_Recorder(path), "trl_suite_recorder")
