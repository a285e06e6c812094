"""The package as a user installs it: from site-packages, with its command and stubs."""
from pathlib import Path

import dannscope
from conftest import REPO, dannscope_command, run


def test_imported_from_the_installed_wheel_not_the_checkout():
    path = Path(dannscope.__file__).resolve()
    assert "site-packages" in path.parts, path
    assert REPO.resolve() not in path.parents, path
    native = list(path.parent.glob("_native*.so"))
    assert len(native) == 1 and native[0].name.endswith(".abi3.so"), native
    assert (path.parent / "py.typed").exists()
    assert (path.parent / "_native.pyi").exists()


def test_version_of_command_module_and_library_agree():
    out = run([dannscope_command(), "--version"]).stdout
    assert out == f"dannscope {dannscope.__version__}\n", out
    cargo = (REPO / "Cargo.toml").read_text()
    assert f'\nversion = "{dannscope.__version__}"\n' in cargo


def test_help_shows_an_example():
    import pydoc
    for f in (dannscope.tsne, dannscope.place, dannscope.validators, dannscope.compare,
              dannscope.plot_tsne, dannscope.metrics.classification, dannscope.metrics.cohesion,
              dannscope.metrics.silhouette_score):
        text = pydoc.render_doc(f)
        assert "Examples" in text and ">>> " in text, f.__name__


def test_docstring_examples_run():
    import doctest
    for module in (dannscope, dannscope.metrics):
        failed, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failed == 0, (module.__name__, failed, tried)
