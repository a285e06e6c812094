"""The installed ``dannscope`` command: the same command line as the Rust binary, and the same numbers
from Python as from the command on the same arrays (t-SNE bytes, metrics to the last bit)."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dannscope
from conftest import FIXTURES, dannscope_command, load_json, run

MODEL = FIXTURES / "models" / "tiny.onnx"
DATA = FIXTURES / "data"


def binary():
    """The cargo-built binary to compare with (DANNSCOPE_BIN), when given."""
    path = os.environ.get("DANNSCOPE_BIN")
    if not path:
        if os.environ.get("DANNSCOPE_REQUIRE_BIN") == "1":
            pytest.fail("DANNSCOPE_BIN is not set")
        pytest.skip("DANNSCOPE_BIN (the cargo-built dannscope) not set")
    return path


@pytest.mark.parametrize("args", [
    ["--version"],
    ["--help"],
    ["tsne", "--help"],
    ["eval", "--help"],
    ["eval", "--no-such-flag"],
    ["tsne", "--pair", "R-A", "--perplexity", "0", "--model", str(MODEL), "--data", str(DATA)],
    ["curves", "--log", "/nonexistent/run.csv"],
])
def test_same_bytes_and_status_as_the_binary(args, tmp_path):
    ours = subprocess.run([dannscope_command(), *args], capture_output=True, cwd=tmp_path)
    theirs = subprocess.run([binary(), *args], capture_output=True, cwd=tmp_path)
    assert ours.returncode == theirs.returncode, (ours.returncode, theirs.returncode)
    assert ours.stdout == theirs.stdout
    assert ours.stderr == theirs.stderr


def test_exit_statuses_and_python_m():
    cmd = dannscope_command()
    assert run([cmd, "--version"]).returncode == 0
    bad = run([cmd, "eval", "--no-such-flag"], check=False)
    assert bad.returncode == 2 and "--no-such-flag" in bad.stderr
    missing = run([cmd, "curves", "--log", "/nonexistent/run.csv"], check=False)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    via_m = run([sys.executable, "-m", "dannscope", "--version"])
    assert via_m.stdout == f"dannscope {dannscope.__version__}\n"


def npz(path: Path, key: str) -> np.ndarray:
    with zipfile.ZipFile(path) as z, z.open(f"{key}.npy") as f:
        return np.lib.format.read_array(f)


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory):
    """`dannscope tsne` and `dannscope eval` of the pair R-A on the fixture data (pure-Rust engine)."""
    out = tmp_path_factory.mktemp("cli") / "out"
    common = ["--pair", "R-A", "--split", "all", "--model", str(MODEL), "--data", str(DATA),
              "--out", str(out), "--engine", "tract", "-q"]
    run([dannscope_command(), "tsne", *common])
    run([dannscope_command(), "eval", *common])
    return out


def store(out: Path, name: str) -> dict[str, np.ndarray]:
    path = out / "embeddings" / "tiny" / "all" / f"{name}.npz"
    return {k: npz(path, k) for k in ("embedding", "logits", "label")}


def test_tsne_from_python_is_byte_identical_to_the_command(cli_outputs):
    source, target = store(cli_outputs, "Real World"), store(cli_outputs, "Art")
    cli = npz(cli_outputs / "tsne" / "tiny" / "all" / "R-A.npz", "coords")
    ours = dannscope.tsne([source["embedding"], target["embedding"]], seed=0)
    assert ours.shape == cli.shape == (len(source["label"]) + len(target["label"]), 2)
    assert ours.dtype == cli.dtype
    assert ours.tobytes() == cli.tobytes()


def test_metrics_from_python_equal_the_command_to_the_last_bit(cli_outputs):
    results = load_json(cli_outputs / "metrics" / "tiny" / "all" / "metrics.json")
    domains = {d["domain"]: d for d in results["domains"]}
    source, target = store(cli_outputs, "Real World"), store(cli_outputs, "Art")
    n_classes = source["logits"].shape[1]
    for name, d in (("Real World", source), ("Art", target)):
        ours = dannscope.metrics.classification(d["logits"], d["label"], n_classes=n_classes)
        assert ours == domains[name]["classification"], name
    pair = next(p for p in results["pairs"] if p["pair"] == "R-A")
    ours = dannscope.metrics.cohesion(
        source["embedding"], source["label"], target["embedding"], target["label"],
        source_logits=source["logits"], target_logits=target["logits"])
    cli = {m["name"]: m for m in pair["cohesion"]["metrics"]}
    assert list(ours) == list(cli)
    for name, m in cli.items():
        assert ours[name]["value"] == m.get("value"), name
        assert ours[name]["reason"] == m.get("reason"), name
        assert ours[name]["mode"] == m.get("mode", "exact"), name
        assert ours[name]["interval"] == m.get("interval"), name


def checkpoint_b(path: Path) -> Path:
    """tiny.onnx as a second checkpoint: epoch 4, its largest weight halved (other predictions)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    m = onnx.load(str(MODEL))
    for p in m.metadata_props:
        if p.key == "dannscope.epoch":
            p.value = "4"
    w = max(m.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    w.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(w) * 0.5).astype(np.float32), w.name))
    onnx.save(m, str(path))
    return path


def test_validators_and_compare_from_python_equal_the_commands(tmp_path):
    b = checkpoint_b(tmp_path / "tiny_b.onnx")
    out = tmp_path / "out"
    common = ["--pair", "R-A", "--split", "all", "--data", str(DATA), "--out", str(out),
              "--engine", "tract", "--no-self-check", "-q"]
    run([dannscope_command(), "select", "--model", str(MODEL), "--model", str(b), *common])
    run([dannscope_command(), "compare", "--model", str(MODEL), "--model", str(b), *common])
    stores = {m: {n: {k: npz(out / "embeddings" / m / "all" / f"{n}.npz", k)
                      for k in ("embedding", "logits", "label")}
                  for n in ("Real World", "Art")} for m in ("tiny", "tiny_b")}

    # select: every validator of every epoch, with the defaults of both.
    picked = load_json(out / "select" / "tiny_b" / "all" / "R-A.json")
    assert [e["model"] for e in picked["epochs"]] == ["tiny", "tiny_b"]
    for e in picked["epochs"]:
        s, t = stores[e["model"]]["Real World"], stores[e["model"]]["Art"]
        ours = dannscope.validators(s["embedding"], s["label"], s["logits"], t["embedding"],
                                    t["logits"])
        for v in e["validators"]:
            assert ours[v["name"]]["value"] == v["value"], (e["model"], v["name"])
            assert ours[v["name"]]["verdict"] == v["verdict"], (e["model"], v["name"])
            if "dev" in v:
                assert ours["dev"]["dev"] == v["dev"], e["model"]

    # compare: B − A on the target, the interval, McNemar, per class, fixed/broken, kNN overlap.
    cli = load_json(out / "compare" / "tiny_vs_tiny_b" / "all" / "R-A.json")
    a, bb = stores["tiny"]["Art"], stores["tiny_b"]["Art"]
    ours = dannscope.compare(a["logits"], bb["logits"], a["label"], emb_a=a["embedding"],
                             emb_b=bb["embedding"])
    for key in ("accuracy_a", "accuracy_b", "difference", "difference_ci", "mcnemar"):
        assert ours[key] == cli[key], key
    assert ours["n"] == cli["n_target"]
    assert cli["difference"] != 0, "the two checkpoints should disagree somewhere"
    assert len(ours["per_class"]) == len(cli["per_class"])
    for mine, theirs in zip(ours["per_class"], cli["per_class"]):
        assert cli["class_names"][mine["class"]] == theirs["class"]
        assert {k: mine[k] for k in ("n", "accuracy_a", "accuracy_b", "delta")} == \
            {k: theirs[k] for k in ("n", "accuracy_a", "accuracy_b", "delta")}
    assert (len(ours["fixed"]), len(ours["broken"])) == (len(cli["fixed"]), len(cli["broken"]))
    art = next(o for o in cli["space_overlap"] if o["domain"] == "Art")
    assert ours["knn_jaccard"] == art["mean_jaccard"]
