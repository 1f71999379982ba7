# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action plugin's read of an existing file: never blocks, never follows a link."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading

from ansible_collections.flashback.platform.plugins.action.flashback_secret_files import ActionModule


def read_within(path, seconds=5):
    """ActionModule._existing(path), or 'blocked' when it does not return within ``seconds``."""
    outcome = ['blocked']

    def target():
        outcome[0] = ActionModule._existing(path)
    thread = threading.Thread(target=target)
    thread.daemon = True
    thread.start()
    thread.join(seconds)
    return outcome[0]


class TestExisting:
    def test_a_regular_file_is_read(self, tmp_path):
        path = tmp_path / 'key.json'
        path.write_bytes(b'$ANSIBLE_VAULT;1.1;AES256\n')
        assert read_within(str(path)) == b'$ANSIBLE_VAULT;1.1;AES256\n'

    def test_a_fifo_is_not_read_and_does_not_block(self, tmp_path):
        path = str(tmp_path / 'key.json')
        os.mkfifo(path, 0o600)
        assert read_within(path) is None

    def test_a_link_is_not_followed(self, tmp_path):
        target = tmp_path / 'elsewhere'
        target.write_bytes(b'other')
        os.symlink(str(target), str(tmp_path / 'key.json'))
        assert read_within(str(tmp_path / 'key.json')) is None

    def test_a_directory_or_nothing_is_none(self, tmp_path):
        os.mkdir(str(tmp_path / 'dir.json'))
        assert read_within(str(tmp_path / 'dir.json')) is None
        assert read_within(str(tmp_path / 'missing.json')) is None
