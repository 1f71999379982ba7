"""The troubleshooting guide lists every error message the collection can produce, and no other.

A row of the guide documents a message as a pattern in which ``…`` stands for the varying parts. A row
covers a message of the code when the row's fixed parts all occur, in order, in the message's format
string. Every message raised in plugins/ must be covered by a row, and every row must cover a message
(or be the one ansible-core itself produces for a missing library), so the guide can neither miss a
new message nor keep one the code no longer has.
"""

from __future__ import annotations

import ast
import re

from ansible.module_utils.basic import missing_required_lib

from conftest import ROOT

GUIDE = ROOT / 'docs' / 'docsite' / 'rst' / 'troubleshooting.rst'
SOURCES = [path for kind in ('module_utils', 'modules', 'action') for path in sorted((ROOT / 'plugins' / kind).glob('*.py'))]
PLACEHOLDER = re.compile(r'%[-#0 +]*\d*(?:\.\d+)?[sdrfi]')


def guide_patterns():
    """The message patterns: the first column of every table row (``* - ``...``), split at ' / '."""
    text = GUIDE.read_text(encoding='utf-8')
    rows = re.findall(r'^   \* - (``.*?``(?:\s*/\s*``.*?``)*)\s*$', text, re.M | re.S)
    patterns = []
    for row in rows:
        patterns += [p for p in re.findall(r'``(.*?)``', row) if p != 'message']
    return patterns


def fragments(pattern):
    return [part.strip() for part in pattern.split('…') if part.strip()]


def covers(pattern, message):
    position = 0
    for part in fragments(pattern):
        position = message.find(part, position)
        if position < 0:
            return False
        position += len(part)
    return True


def format_strings(node):
    """The message texts an expression can produce: its format strings, not the values formatted into them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        yield from format_strings(node.left)
        # '%s: %s' % (where, 'message %r' % x if ... else 'other %r' % y): the nested formats are messages too.
        for value in node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]:
            if isinstance(value, (ast.BinOp, ast.IfExp)):
                yield from format_strings(value)
    elif isinstance(node, ast.IfExp):
        yield from format_strings(node.body)
        yield from format_strings(node.orelse)


def code_messages():
    """(file, format string) of every error the plugins raise: *Error(msg, ...), fail_json(msg=...) and the
    refusals of reconcile.decide (refuse(reason, ...)), which become the module's error."""
    messages = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, 'id', None) or getattr(node.func, 'attr', '')
            if (name.endswith('Error') or name == 'refuse') and node.args:
                message = node.args[0]
            elif name == 'fail_json':
                message = next((kw.value for kw in node.keywords if kw.arg == 'msg'), None)
            else:
                continue
            for text in format_strings(message) if message is not None else ():
                if any(len(chunk.strip(' :;,()')) >= 4 for chunk in PLACEHOLDER.split(text)):
                    messages.append((path.relative_to(ROOT).as_posix(), text))
    return messages


def test_guide_and_code_agree():
    patterns = guide_patterns()
    messages = code_messages()
    assert len(patterns) > 20 and len(messages) > 20, (len(patterns), len(messages))
    builtin = missing_required_lib('requests')
    undocumented = ['%s: %s' % m for m in messages if not any(covers(p, m[1]) for p in patterns)]
    stale = [p for p in patterns if not covers(p, builtin) and not any(covers(p, m) for dummy, m in messages)]
    assert not undocumented, 'add these messages to %s:\n%s' % (GUIDE.relative_to(ROOT), '\n'.join(undocumented))
    assert not stale, 'no code produces these messages of %s:\n%s' % (GUIDE.relative_to(ROOT), '\n'.join(stale))
