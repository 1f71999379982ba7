# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""tasks_file_problem: a hook that would not load is named before any key is created.

Module names resolve through Ansible's collection loader, which a controller installs: the filter runs in a
child Python that installs it too, so that this process's imports stay as the other tests expect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

# <root>/ansible_collections/flashback/platform/tests/unit/plugins/filter/this file
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *['..'] * 7))
CHILD = '''
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible_collections.flashback.platform.plugins.filter.tasks_file_problem import tasks_file_problem
print(json.dumps([tasks_file_problem(path) for path in sys.argv[2:]]))
'''

GOOD = [
    '- name: Store it\n  ansible.builtin.copy: {dest: /x, content: y}\n',
    '- ansible.builtin.debug: {msg: hi}\n- block:\n    - ansible.builtin.fail: {msg: no}\n  rescue:\n'
    '    - ansible.builtin.meta: end_play\n',
    '- name: Short names resolve too\n  debug: {msg: hi}\n',
]
BAD = [
    ('- name: Deliver\n  ansible.builtin.cpoy: {dest: /x}\n',
     ", task 1 ('Deliver'): couldn't resolve module/action 'ansible.builtin.cpoy'"),
    ('- ansible.builtin.debug: {msg: hi}\n- block:\n    - nosuch.collection.module: {}\n',
     ", task 2, block task 1: couldn't resolve module/action 'nosuch.collection.module'"),
    ('- name: x\n  debug: {msg: [\n', ' does not load: '),
    ('', ' holds no task'),
    ('name: not a list\n', ' is not a list of tasks'),
    ('- just a string\n', ', task 1 is not a task (a mapping)'),
]


@pytest.fixture(scope='module')
def problems(tmp_path_factory):
    """{text: (path, problem)} for every case, from one child process."""
    directory = tmp_path_factory.mktemp('hooks')
    paths = []
    texts = GOOD + [text for text, dummy in BAD]
    for number, text in enumerate(texts):
        path = directory / ('deliver-%d.yml' % number)
        path.write_text(text)
        paths.append(str(path))
    paths.append(str(directory / 'missing.yml'))
    out = subprocess.run([sys.executable, '-c', CHILD, COLLECTIONS_ROOT] + paths, check=True, capture_output=True,
                         text=True).stdout
    found = json.loads(out.splitlines()[-1])
    return dict(zip(texts + ['missing'], zip(paths, found)))


class TestTasksFileProblem:
    @pytest.mark.parametrize('text', GOOD)
    def test_a_file_that_runs(self, problems, text):
        assert problems[text][1] == ''

    @pytest.mark.parametrize('text, expected', BAD)
    def test_a_file_that_would_not_run(self, problems, text, expected):
        path, problem = problems[text]
        assert problem.startswith('tasks file %s' % path)
        assert expected in problem
        assert '\n' not in problem

    def test_a_missing_file(self, problems):
        assert ' does not load: ' in problems['missing'][1]
