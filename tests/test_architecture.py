"""The shape of the code: imports point one way, no cycles, screens stay small and explicit.

Why: a reader must find any behaviour in one obvious place, and a new screen or channel
must not need edits all over. These rules are easy to break by accident (an import inside
a function to dodge a cycle, a `getattr(self, f"screen_{state}")`), so they are checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.engine.machine import machine_spec
from bot.engine.screens import SCREENS, SIDE_LISTS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bot"

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (never imported at run time)."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project modules a file imports anywhere (top level or inside a function)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
    return {m for m in found if m in modules}


def import_graph() -> Graph:
    files = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
    modules = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, modules) for p in files}


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles_in_bot() -> None:
    assert find_cycle(import_graph()) is None


# (importer prefix, imported prefix) pairs that must never occur
FORBIDDEN = [
    ("bot.engine", "bot.storage"),
    ("bot.engine", "bot.services"),
    ("bot.engine", "bot.channels"),
    ("bot.engine", "bot.web"),
    ("bot.engine", "bot.host"),
    ("bot.storage", "bot.engine"),
    ("bot.storage", "bot.services"),
    ("bot.storage", "bot.channels"),
    ("bot.storage", "bot.web"),
    ("bot.services", "bot.channels"),
    ("bot.services", "bot.web"),
    ("bot.services", "bot.host"),
    ("bot.channels", "bot.web"),
    ("bot.channels", "bot.host"),
    ("bot.web", "bot.channels"),
    ("bot.web", "bot.host"),
    ("bot.summary", "bot.services"),
    ("bot.summary", "bot.storage"),
]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_dependencies_point_one_way() -> None:
    wrong = [
        f"{importer} imports {imported}"
        for importer, targets in import_graph().items()
        for imported in targets
        for low, high in FORBIDDEN
        if _within(importer, low) and _within(imported, high)
    ]
    assert wrong == []


def test_the_layering_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "bot" / "engine" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from bot.storage import models\n", encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert imports_of(source, {"bot.storage", "bot.storage.models"}) == {"bot.storage.models"}
    finally:
        ROOT = saved


def engine_files() -> list[Path]:
    return sorted((PACKAGE / "engine").rglob("*.py"))


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_engine_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"{path.name} has {lines} lines; split it by screen or by job"


def test_nothing_is_dispatched_on_a_name_built_at_run_time() -> None:
    """`getattr(obj, f"screen_{state}")` hides code from readers and linters."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr")
                and len(node.args) >= 2
                and not isinstance(node.args[1], ast.Constant)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def fired_triggers() -> set[str]:
    """Trigger names passed to `fire(...)` anywhere in the engine."""
    fired = set()
    for path in engine_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fire"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                fired.add(str(node.args[0].value))
            if isinstance(node, ast.Call):  # go_to_question(..., trigger="next_question")
                fired.update(
                    str(k.value.value)
                    for k in node.keywords
                    if k.arg == "trigger" and isinstance(k.value, ast.Constant)
                )
    return fired


def test_every_declared_trigger_is_fired_and_every_fired_one_declared() -> None:
    declared = {t["trigger"] for t in machine_spec(SCREENS.values())["transitions"]}
    assert declared == fired_triggers()


def test_every_screen_is_registered_once() -> None:
    """Each screen module is a state of the machine; side lists (a KEY, buttons valid from
    any old message) are registered as side lists."""
    folder = PACKAGE / "engine" / "screens"
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "base"}
    side = {m for m in modules if "\nKEY = " in (folder / f"{m}.py").read_text(encoding="utf-8")}
    assert set(SCREENS) == modules - side
    assert {key.strip("_") for key in SIDE_LISTS} == {
        "taal",
        "links",
        "wissel",
        "familie",
        "remind",
    }
    assert len(side) == len(SIDE_LISTS)
