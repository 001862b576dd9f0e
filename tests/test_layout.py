"""The package's shape: every module documented, imports only downward, no cycles, the public API intact."""

import ast
from pathlib import Path

import sentiment

PACKAGE = Path(sentiment.__file__).parent
# Lower numbers sit lower; a module may import its own layer or any layer below it, never above.
LAYERS = {
    "sentiment.errors": 0, "sentiment.progress": 0, "sentiment.tokenize": 0, "sentiment.outputs": 0,
    "sentiment.embeddings": 1, "sentiment.data": 1,
    "sentiment.features": 2,
    "sentiment.model_card": 3, "sentiment.model": 3, "sentiment.calibration": 3, "sentiment.explain": 3,
    "sentiment.scoring.linear": 3,
    "sentiment.evaluate": 4, "sentiment.predict": 4, "sentiment.train": 4, "sentiment.selection": 4,
    "sentiment.scoring": 4,
    "sentiment.experiments": 5,
    "sentiment.cli": 6, "sentiment.serve": 6,
    "sentiment": 7, "sentiment.__main__": 7,
}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _layer(module: str) -> int:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[prefix]


def _imports(path: Path) -> set[str]:
    """Every ``sentiment`` module a file imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sentiment":
            for alias in node.names:  # `from sentiment.data import datasets` imports a module
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if candidate in _modules() else node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "sentiment")
    return names


def test_every_module_says_what_it_does():
    missing = [name for name, path in _modules().items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []


def test_every_module_has_a_layer():
    assert all(_layer(name) is not None for name in _modules())


def test_imports_only_run_downward():
    upward = [
        f"{name} -> {imported}"
        for name, path in _modules().items()
        for imported in _imports(path)
        if _layer(imported) > _layer(name)
    ]
    assert upward == []


def test_no_import_cycles():
    modules = _modules()
    graph = {name: {i for i in _imports(path) if i in modules and i != name} for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                raise AssertionError(" -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_public_api_is_unchanged():
    expected = {"load_reviews", "train", "evaluate", "SentimentModel", "Word2Vec", "WordVectors",
                "MeanEmbeddingVectorizer", "tokenize", "SentimentError"}  # fmt: skip
    assert expected <= set(sentiment.__all__)
    assert all(callable(getattr(sentiment, name)) for name in expected)


def test_the_subpackages_read_like_the_code_map():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    code_map = readme[readme.index("## Code map") :]
    for package in ("cli", "experiments", "features", "embeddings", "data"):
        assert (PACKAGE / package / "__init__.py").is_file()
        assert f"`sentiment/{package}/`" in code_map
