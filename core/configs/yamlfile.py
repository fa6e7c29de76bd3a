"""Reading the YAML file format: line numbers per key and `--set` overrides."""
from __future__ import annotations

from typing import Any

import yaml

from core.configs.errors import ConfigError, ConfigIssue


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _load_yaml(text: str) -> tuple[Any, dict[tuple, tuple[int, int]]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _check_expansion(node)  # before safe_load builds a cyclic or exploding object
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigIssue("", f"YAML syntax error: {problem}", line)]) from None
    if data is None:
        raise ConfigError([ConfigIssue("", "config is empty: expected a mapping with a 'kind' key")])
    lines: dict[tuple, tuple[int, int]] = {}
    if node is not None:
        _map_lines(node, (), lines)
    return data, lines


MAX_NODES = 100_000  # a job config has a few hundred; aliases must not multiply that


def _check_expansion(root: yaml.Node) -> None:
    """Refuse anchors that refer to themselves and aliases that expand a small file into a
    huge document ("billion laughs"): both would hang or crash whatever walks the data."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # iterative post-order walk: a deep file must not hit Python's recursion limit either
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                raise ConfigError([ConfigIssue("", f"the YAML expands to more than {MAX_NODES:,} "
                                               "values through its aliases (*name); write the "
                                               "values out instead",
                                               node.start_mark.line + 1)])
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConfigError([ConfigIssue("", "an anchor refers to itself through an alias "
                                           "(*name inside &name), which never ends",
                                           node.start_mark.line + 1)])
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise ConfigError([ConfigIssue("", "an anchor refers to itself through an alias "
                                               "(*name inside &name), which never ends",
                                               child.start_mark.line + 1)])
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _map_lines(node: yaml.Node, path: tuple, out: dict[tuple, tuple[int, int]]) -> None:
    """path -> (line of its key, line of its value), 1-based."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            sub = path + (key,)
            out[sub] = (key_node.start_mark.line + 1, value_node.start_mark.line + 1)
            _map_lines(value_node, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            out[sub] = (item.start_mark.line + 1, item.start_mark.line + 1)
            _map_lines(item, sub, out)


def _line_for(lines: dict[tuple, tuple[int, int]], loc: tuple, key: bool = False) -> int | None:
    loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
    for n in range(len(loc), 0, -1):
        hit = lines.get(loc[:n])
        if hit:
            return hit[0] if (key and n == len(loc)) else hit[1]
    return None


def _apply_overrides(data: Any, overrides: list[str] | tuple[str, ...]) -> set[tuple]:
    if not overrides:
        return set()
    if not isinstance(data, dict):
        return set()
    applied: set[tuple] = set()
    for item in overrides:
        if "=" not in item:
            raise ConfigError([ConfigIssue("", f"override '{item}' must look like section.key=value")])
        path_text, _, value_text = item.partition("=")
        path = tuple(p.strip() for p in path_text.strip().split("."))
        if not all(path):
            raise ConfigError([ConfigIssue(path_text, f"override '{item}' has an empty key")])
        try:
            value = yaml.safe_load(value_text) if value_text.strip() else None
        except yaml.YAMLError:
            value = value_text
        node = data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
        applied.add(path)
    return applied
