"""Inserting into the Python files a scaffold owns a part of, by their syntax tree, never by guesswork.

Each function finds one place (an assignment, a call's keyword, a tuple) with :mod:`ast` and inserts
text at its exact offsets; when the place is not where the scaffold left it, it says so and writes
nothing, so a hand-edited file is never mangled.
"""

from __future__ import annotations

import ast
from pathlib import Path

from workflowkit.scaffold.names import ScaffoldError


def _offset(text: str, line: int, column: int) -> int:
    """The string index of an ast position (``column`` counts UTF-8 bytes of its line)."""
    lines = text.splitlines(keepends=True)
    characters = len(lines[line - 1].encode()[:column].decode(errors="ignore"))
    return sum(len(part) for part in lines[: line - 1]) + characters


def _assignment(tree: ast.Module, name: str, path: Path) -> ast.Assign | ast.AnnAssign:
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            assert isinstance(node, ast.Assign | ast.AnnAssign)
            return node
    raise ScaffoldError(f"{path}: no top-level assignment to {name}")


def has_assignment(path: Path, name: str) -> bool:
    """Whether ``path`` assigns ``name`` at top level (e.g. a plug-in the scaffold wrote)."""
    try:
        _assignment(ast.parse(path.read_text()), name, path)
    except ScaffoldError:
        return False
    return True


def append_to_tuple(path: Path, name: str, items: str, *, keyword: str | None = None) -> None:
    """Append ``items`` (source of one or more elements) to the tuple assigned to ``name``.

    With ``keyword``, the tuple is that keyword argument of the call assigned to ``name``.
    """
    text = path.read_text()
    node = _assignment(ast.parse(text), name, path).value
    if keyword is not None:
        if not isinstance(node, ast.Call):
            raise ScaffoldError(f"{path}: {name} is not a call")
        matches = [k.value for k in node.keywords if k.arg == keyword]
        if not matches:
            raise ScaffoldError(f"{path}: {name}(...) has no {keyword}=")
        node = matches[0]
    if not isinstance(node, ast.Tuple) or node.end_lineno is None or node.end_col_offset is None:
        raise ScaffoldError(f"{path}: {name}{'.' + keyword if keyword else ''} is not a tuple literal")
    end = _offset(text, node.end_lineno, node.end_col_offset) - 1  # the closing parenthesis
    if text[end] != ")":
        raise ScaffoldError(f"{path}: {name} must be a parenthesised tuple")
    multiline = "\n" in items
    if not node.elts:
        # A one-element tuple needs its comma: "(X,)", not "(X)".
        changed = text[:end] + (f"\n{items.rstrip()}\n" if multiline else f"{items},") + text[end:]
    else:
        last = node.elts[-1]
        assert last.end_lineno is not None
        assert last.end_col_offset is not None
        after_last = _offset(text, last.end_lineno, last.end_col_offset)
        has_comma = text[after_last:end].lstrip(" ").startswith(",")
        if "\n" in text[after_last:end]:
            # The closing parenthesis has a line of its own: new lines go just above it, so a comment
            # after the last element stays where it is.
            last_line = text.splitlines()[last.lineno - 1]
            indent = last_line[: len(last_line) - len(last_line.lstrip())]
            line_start = text.rindex("\n", 0, end) + 1
            lines = items.rstrip("\n") + "\n" if multiline else f"{indent}{items},\n"
            changed = text[:line_start] + lines + text[line_start:]
            if not has_comma:
                changed = changed[:after_last] + "," + changed[after_last:]
        else:
            # One line: keep its style (a trailing comma stays trailing).
            at = text.index(",", after_last) + 1 if has_comma else after_last
            changed = text[:at] + (f" {items}," if has_comma else f", {items}") + text[at:]
    _check_still_a_tuple(changed, path, name, keyword, len(node.elts) + max(1, items.count("\n")))
    path.write_text(changed)


def _check_still_a_tuple(text: str, path: Path, name: str, keyword: str | None, at_least: int) -> None:
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise ScaffoldError(f"{path}: appending to {name} would break the file ({error.msg})") from None
    node = _assignment(tree, name, path).value
    if keyword is not None and isinstance(node, ast.Call):
        node = next(k.value for k in node.keywords if k.arg == keyword)
    if not isinstance(node, ast.Tuple) or len(node.elts) < at_least:
        raise ScaffoldError(f"{path}: appending to {name} did not give the tuple expected")


def insert_before(path: Path, name: str, source: str) -> None:
    """Insert ``source`` just before the top-level assignment to ``name`` (and its comment lines)."""
    text = path.read_text()
    node = _assignment(ast.parse(text), name, path)
    lines = text.splitlines(keepends=True)
    index = node.lineno - 1
    while index > 0 and lines[index - 1].lstrip().startswith("#"):
        index -= 1
    path.write_text("".join(lines[:index]) + source + "".join(lines[index:]))


def add_import(path: Path, statement: str) -> None:
    """Add ``statement`` after the last top-level import (once)."""
    text = path.read_text()
    if statement in text.splitlines():
        return
    tree = ast.parse(text)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    if not imports or imports[-1].end_lineno is None:
        raise ScaffoldError(f"{path}: no imports to add {statement!r} after")
    lines = text.splitlines(keepends=True)
    at = imports[-1].end_lineno
    path.write_text("".join(lines[:at]) + statement + "\n" + "".join(lines[at:]))


def last_step_completion(path: Path, workflow_constant: str) -> str | None:
    """The ``completed_by`` of the last step in the declaration's ``steps``, or None without steps."""
    text = path.read_text()
    tree = ast.parse(text)
    call = _assignment(tree, workflow_constant, path).value
    if not isinstance(call, ast.Call):
        raise ScaffoldError(f"{path}: {workflow_constant} is not a WorkflowDefinition(...) call")
    steps = next((k.value for k in call.keywords if k.arg == "steps"), None)
    if not isinstance(steps, ast.Tuple):
        raise ScaffoldError(f"{path}: {workflow_constant}.steps is not a tuple literal")
    if not steps.elts:
        return None
    last = steps.elts[-1]
    if not isinstance(last, ast.Name):
        raise ScaffoldError(f"{path}: the last step must be a name defined in the file")
    step_call = _assignment(tree, last.id, path).value
    if isinstance(step_call, ast.Call):
        for keyword in step_call.keywords:
            if keyword.arg == "completed_by" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    raise ScaffoldError(f"{path}: cannot read {last.id}'s completed_by")


def step_names(path: Path, workflow_constant: str) -> list[str]:
    """The ``name`` of every step in the declaration's ``steps``, in sequence."""
    tree = ast.parse(path.read_text())
    call = _assignment(tree, workflow_constant, path).value
    steps = (
        next((k.value for k in call.keywords if k.arg == "steps"), None)
        if isinstance(call, ast.Call)
        else None
    )
    if not isinstance(steps, ast.Tuple):
        raise ScaffoldError(f"{path}: {workflow_constant}.steps is not a tuple literal")
    names: list[str] = []
    for element in steps.elts:
        step_call = _assignment(tree, element.id, path).value if isinstance(element, ast.Name) else None
        name = next(
            (
                k.value.value
                for k in getattr(step_call, "keywords", [])
                if k.arg == "name" and isinstance(k.value, ast.Constant)
            ),
            None,
        )
        if not isinstance(name, str):
            raise ScaffoldError(f"{path}: cannot read the name of every step")
        names.append(name)
    return names
