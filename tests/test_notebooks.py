"""Every notebook executes headless, top to bottom, in smoke-test mode (`TRL_VPD_SMOKE=1`: the tiny local model, a
few steps, CPU, no download), and draws its figure: a non-empty PNG file next to it and a PNG in the cell's output.
Its Colab install cell installs from the repository URL set in the first cell. A failing cell fails the test with
the cell's traceback."""

import base64
import sys
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from packaging.requirements import Requirement

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# The figure each notebook saves (and displays): its reward and teacher-metric curves.
FIGURES = {"quickstart_qlora": "vpd_vs_grpo.png", "custom_feedback": "vpd_letters.png"}
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_notebooks_ship():
    assert {"quickstart_qlora", "custom_feedback"} <= {path.stem for path in NOTEBOOKS}
    assert set(FIGURES) == {path.stem for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_install_cell_installs_from_the_repository_url(path):
    """Run the first cell with a URL and the install cell as on a fresh Colab runtime (trl_vpd not importable):
    it pip-installs `trl-vpd[extras] @ git+REPO_URL`, a requirement pip accepts. Unset, it says what to set."""
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    settings = cells[0].source.replace('"https://github.com/<OWNER>/trl-vpd"', '"https://example.com/me/trl-vpd@v1"')
    install = next(cell.source for cell in cells if "pip" in cell.source)
    scope = {}
    exec(settings, scope)  # noqa: S102
    with mock.patch("importlib.util.find_spec", return_value=None), mock.patch("subprocess.check_call") as call:
        exec(install, scope)  # noqa: S102
    (command,) = [c.args[0] for c in call.call_args_list]
    assert command[:5] == [sys.executable, "-m", "pip", "install", "-q"]
    requirement = Requirement(command[5])
    assert requirement.name == "trl-vpd" and requirement.url == "git+https://example.com/me/trl-vpd@v1"
    assert requirement.extras  # plots at least
    exec(cells[0].source, scope)  # the placeholder as shipped
    with mock.patch("importlib.util.find_spec", return_value=None), mock.patch("subprocess.check_call") as call:
        with pytest.raises(ValueError, match="Set REPO_URL"):
            exec(install, scope)  # noqa: S102
    assert not call.called


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # The kernel inherits this environment; it runs in tmp_path, where the notebook writes its outputs.
    monkeypatch.setenv("TRL_VPD_SMOKE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # The figure exists as a file and was displayed, even under the Agg backend that CI uses.
    figure = tmp_path / FIGURES[path.stem]
    assert figure.is_file() and figure.read_bytes().startswith(PNG) and figure.stat().st_size > 10_000
    shown = [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})]
    assert shown and shown[-1] == figure.read_bytes()


def test_no_notebook_output_is_committed():
    """Notebooks ship without outputs (they are rerun by CI and by users)."""
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path.stem
