"""YAML loading that remembers line numbers and refuses duplicate keys.

Content editors fix mistakes by line number, so every mapping keeps the line it starts on
and the line of each key. PyYAML would silently keep the last of two equal keys; a flow
file with a duplicated key is almost always a copy-paste slip, so it is an error here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlError(Exception):
    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message


class LineDict(dict[str, Any]):
    """A mapping that knows the line it starts on and where each key stands."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int
    item_lines: list[int]


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(path, 1, f"the file is not UTF-8 text ({exc.reason})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"this is not valid YAML: {exc.problem}") from exc
    if node is None:
        raise YamlError(path, 1, "the file is empty")
    return _convert(path, node)


def _convert(path: Path, node: Node) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result = LineDict()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(path, key_node)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlError(path, key_line, f"a key must be a word, not {key!r}")
            if key in result:
                raise YamlError(
                    path,
                    key_line,
                    f"'{key}' appears twice here (first on line {result.line_of(key)})",
                )
            result[key] = _convert(path, value_node)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, SequenceNode):
        items = LineList(_convert(path, child) for child in node.value)
        items.line = line
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items
    assert isinstance(node, ScalarNode)
    return _scalar(node)


def _scalar(node: ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
