"""YAML loading that remembers line numbers and refuses duplicate keys.

Content editors fix mistakes by line number, so every mapping keeps the line it starts on
and the line of each key. PyYAML would silently keep the last of two equal keys; a flow
file with a duplicated key is almost always a copy-paste slip, so it is an error here.

A flow file is content, not code, but a broken or hostile one must still be one clear
sentence with a line number rather than a crash or a hang: before the file is composed,
its event stream is checked for size, nesting depth and aliases (an alias that contains
itself, aliases of aliases, and "billion laughs" that expand to millions of values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
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


# libyaml's parser where PyYAML was built with it: the flow loads in a fraction of the time.
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 1_000_000  # the whole shipped flow is about 60 kB
MAX_DEPTH = 40  # nesting of lists and mappings
MAX_ALIAS_DEPTH = 2  # an alias may point at something that holds aliases, no deeper
MAX_VALUES = 200_000  # values after expanding every alias


def load_yaml(path: Path) -> Any:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise YamlError(path, 1, f"the file is larger than {MAX_FILE_BYTES // 1000} kB")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(path, 1, f"the file is not UTF-8 text ({exc.reason})") from exc
    try:
        check_shape(path, text)
        node = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"this is not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:  # e.g. a control character (ReaderError)
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1
        raise YamlError(path, line, f"this is not valid YAML: {exc}") from exc
    if node is None:
        raise YamlError(path, 1, "the file is empty")
    return _convert(path, node, SafeConstructor())


def check_shape(path: Path | str, text: str) -> None:
    """Refuse deep nesting and alias tricks, from the event stream (which, unlike PyYAML's
    composer, does not recurse), before anything is built."""
    stack: list[list[Any]] = []  # per open collection: [anchor, values, alias depth]
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, alias depth)
    total = 0

    def count(values: int, alias_depth: int, line: int) -> None:
        nonlocal total
        total += values
        if total > MAX_VALUES:
            raise YamlError(path, line, f"this expands to more than {MAX_VALUES} values")
        if stack:
            stack[-1][1] += values
            stack[-1][2] = max(stack[-1][2], alias_depth)

    for event in yaml.parse(text, Loader=LOADER):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.CollectionStartEvent):
            count(1, 0, line)
            stack.append([event.anchor, 1, 0])
            if len(stack) > MAX_DEPTH:
                raise YamlError(path, line, f"lists and mappings nest deeper than {MAX_DEPTH}")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, values, alias_depth = stack.pop()
            if anchor is not None:
                anchors[anchor] = (values, alias_depth)
            if stack:  # the values were counted in the total already
                stack[-1][1] += values - 1
                stack[-1][2] = max(stack[-1][2], alias_depth)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            count(1, 0, line)
        elif isinstance(event, yaml.AliasEvent):
            if any(open_anchor == event.anchor for open_anchor, _, _ in stack):
                raise YamlError(path, line, f"the alias *{event.anchor} contains itself")
            if event.anchor not in anchors:
                continue  # PyYAML reports the unknown anchor itself, with its line
            values, alias_depth = anchors[event.anchor]
            if alias_depth + 1 > MAX_ALIAS_DEPTH:
                raise YamlError(
                    path, line, f"aliases are nested more than {MAX_ALIAS_DEPTH} deep here"
                )
            count(values, alias_depth + 1, line)


def _convert(path: Path, node: Node, scalars: SafeConstructor) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result = LineDict()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(path, key_node, scalars)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlError(path, key_line, f"a key must be a word, not {key!r}")
            if key in result:
                raise YamlError(
                    path,
                    key_line,
                    f"'{key}' appears twice here (first on line {result.line_of(key)})",
                )
            result[key] = _convert(path, value_node, scalars)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, SequenceNode):
        items = LineList(_convert(path, child, scalars) for child in node.value)
        items.line = line
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items
    assert isinstance(node, ScalarNode)
    return scalars.construct_object(node, deep=True)
