"""The package reads as a map: stages import one way, and inference never imports the training loop."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mangacolor"
LAYERS = ["kernels", "data", "features", "model", "colorize", "evaluate", "report"]  # each may use those before it
SHARED = {"io", "_core"}  # plain utilities every stage may use


def mangacolor_imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """The mangacolor modules a file of the package at ``root`` imports, as dotted names below the package
    (e.g. 'model.train')."""
    rel = path.relative_to(root).with_suffix("").parts
    here = list(rel[:-1])  # the file's package, for relative imports
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1] if node.level > 1 else here
                name = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("mangacolor"):
                name = node.module.removeprefix("mangacolor").lstrip(".")
            else:
                continue
            for alias in node.names:  # `from .. import _core` imports a module, not a name
                found.add(f"{name}.{alias.name}".strip(".") if not name or name in LAYERS else name)
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("mangacolor").lstrip(".") for a in node.names
                      if a.name.startswith("mangacolor.")}
    return {f for f in found if f}


STAGE_FILES = [p for layer in LAYERS for p in sorted((PACKAGE / layer).rglob("*.py"))]


@pytest.mark.parametrize("path", STAGE_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_stages_import_one_way(path, root=PACKAGE):
    layer = LAYERS.index(path.relative_to(root).parts[0])
    for name in mangacolor_imports(path, root):
        top = name.split(".")[0]
        assert top in SHARED or (top in LAYERS and LAYERS.index(top) <= layer), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", [p for p in STAGE_FILES if p.parts[-2] in ("colorize", "evaluate", "report")
                                  or p.name in ("load.py", "decode.py")],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_inference_never_imports_training(path):
    assert "model.train" not in mangacolor_imports(path), path


def test_the_import_check_sees_a_backward_import(tmp_path):
    """The check can fail: a kernels module importing the training loop is caught, relative or absolute."""
    (tmp_path / "kernels").mkdir()
    for text in ("from ..model.train import train\n", "from mangacolor.model import train\n"):
        probe = tmp_path / "kernels" / "probe.py"
        probe.write_text(text)
        assert "model.train" in mangacolor_imports(probe, tmp_path)
        with pytest.raises(AssertionError, match="imports model.train"):
            test_stages_import_one_way(probe, tmp_path)
