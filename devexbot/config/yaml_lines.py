"""Where in the YAML a value is, for messages that name `file:line`."""

from __future__ import annotations

from collections.abc import Sequence

import yaml


def dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def line_of(node: yaml.Node | None, loc: Sequence[int | str], *, key_line: bool = False
             ) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest existing parent.

    A nested mapping starts on its first key's line; `key_line` gives the line of the key
    naming it instead (where a runbook's name is).
    """
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            # The key's line: a nested mapping's own first line is that of its first key.
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            match, mark = (pair[1], (pair[0] if key_line else pair[1]).start_mark) if pair \
                else (None, None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            match = node.value[part] if part < len(node.value) else None
            mark = match.start_mark if match is not None else None
        else:
            match = mark = None
        if match is None or mark is None:
            break
        node, line = match, mark.line + 1
    return line
