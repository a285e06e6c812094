"""The example of examples/python run as a script, and the exporter shipped in the package
(``python -m dannscope.export``, ``dannscope-export``, and the models/export_onnx.py wrapper)."""
import json
import re
import sys
from pathlib import Path

from conftest import REPO, dannscope_command, need, run


def test_hook_example_runs_as_a_script(tmp_path):
    need("torch")
    out = tmp_path / "hook"
    r = run([sys.executable, str(REPO / "examples" / "python" / "hook_tsne.py"), "--out", str(out)])
    assert "wrote" in r.stdout
    svg = (out / "tsne.svg").read_text()
    assert svg.startswith("<svg") and "inverted" in svg
    assert (out / "tsne.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    # trained on the source: it separates the source classes; the inverted target is shifted
    assert summary["silhouette_source"] > summary["silhouette_joint"]
    assert 0.0 <= summary["target_accuracy"] <= 1.0


def test_exporter_entry_points_share_one_command_line():
    bin_dir = Path(dannscope_command()).parent
    via_m = run([sys.executable, "-m", "dannscope.export", "--help"]).stdout
    via_script = run([str(bin_dir / "dannscope-export"), "--help"]).stdout
    via_wrapper = run([sys.executable, str(REPO / "models" / "export_onnx.py"), "--help"]).stdout
    for text in (via_m, via_script, via_wrapper):
        assert "--run-tree" in text and "--checkpoint-dir" in text
    # the same parser: the same flags, in the same order (only the program name differs)
    flags = lambda t: re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", t.split("options:")[1])  # noqa: E731
    assert len(flags(via_wrapper)) > 20
    assert flags(via_script) == flags(via_m) == flags(via_wrapper)


def test_exported_model_is_accepted_by_the_command(tmp_path):
    need("torch")
    need("onnx")
    onnx_path = tmp_path / "demo.onnx"
    run([sys.executable, "-m", "dannscope.export", "--arch", "demo_cnn", "--num-classes", "4",
         "--input-size", "32", "--out", str(onnx_path)])
    assert onnx_path.stat().st_size > 0
    data = REPO / "tests" / "fixtures" / "data"
    out = tmp_path / "out"
    run([dannscope_command(), "embed", "--model", str(onnx_path), "--data", str(data), "--split", "all",
         "--out", str(out), "--engine", "tract", "-q"])
    assert (out / "embeddings" / "demo" / "all" / "Art.npz").is_file()


def test_package_holds_the_exporter_and_the_wrapper_holds_no_copy():
    need("torch")
    import dannscope.export as ex
    assert callable(ex.main) and callable(ex.export_model)
    assert sys.modules["export_onnx"] is ex  # pickled modules name it so
    wrapper = (REPO / "models" / "export_onnx.py").read_text()
    assert len(wrapper.splitlines()) < 30 and "def " not in wrapper
