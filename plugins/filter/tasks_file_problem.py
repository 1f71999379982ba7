# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Why a tasks file would not run, before anything depends on it (documentation: tasks_file_problem.yml).

The repo_apikeys role checks its delivery hook with it before any key is created: a hook that does not
parse, or names a module Ansible cannot resolve, stops the play at the include (no rescue catches that),
after the new keys were made.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.mod_args import ModuleArgsParser

_BLOCK_KEYS = ('block', 'rescue', 'always')


def _first_line(exc):
    text = to_text(getattr(exc, 'message', None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _task_problem(task, where):
    if not isinstance(task, dict):
        return '%s is not a task (a mapping)' % where
    if any(key in task for key in _BLOCK_KEYS):
        for key in _BLOCK_KEYS:
            items = task.get(key) or []
            if not isinstance(items, list):
                return '%s: %s is not a list of tasks' % (where, key)
            for number, item in enumerate(items, 1):
                problem = _task_problem(item, '%s, %s task %d' % (where, key, number))
                if problem:
                    return problem
        return None
    try:
        ModuleArgsParser(task_ds=task, collection_list=task.get('collections')).parse()
    except AnsibleError as exc:
        return '%s%s: %s' % (where, ' (%r)' % task['name'] if isinstance(task.get('name'), str) else '',
                             _first_line(exc))
    return None


def tasks_file_problem(path):
    """'' when the tasks file at ``path`` loads and every task's module or action resolves, else why not."""
    try:
        data = DataLoader().load_from_file(to_text(path))
    except AnsibleError as exc:
        return 'tasks file %s does not load: %s' % (path, _first_line(exc))
    if not data:
        return 'tasks file %s holds no task' % path
    if not isinstance(data, list):
        return 'tasks file %s is not a list of tasks' % path
    for number, task in enumerate(data, 1):
        problem = _task_problem(task, 'tasks file %s, task %d' % (path, number))
        if problem:
            return problem
    return ''


class FilterModule(object):
    def filters(self):
        return dict(tasks_file_problem=tasks_file_problem)
