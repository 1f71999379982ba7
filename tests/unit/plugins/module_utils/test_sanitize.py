# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""sanitize: server text made one printable line, names made visible, the run's secrets masked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _sanitize as sanitize

HOSTILE = [
    '\x1b[2J\x1b[1;1H',             # ESC/CSI: clear the screen, move the cursor
    '\x9b31m',                       # C1 CSI
    '\x07\x00\x08\x7f',              # BEL, NUL, backspace, DEL
    '\u202eevil\u202c',              # bidi override
    '\u2066x\u2069\u200e\u200f',     # bidi isolates and marks
    '\u2028\u2029',                  # line and paragraph separators
    '\r\nfatal: [testhost]: FAILED! => {}',
]


class TestOneLine:
    @pytest.mark.parametrize('text', HOSTILE)
    def test_no_control_character_survives(self, text):
        clean = sanitize.one_line('a ' + text + ' b')
        assert clean.isprintable() and '\n' not in clean

    def test_folds_whitespace_and_keeps_the_words(self):
        assert sanitize.one_line('  bad\r\n\tthing\u2028here\x1b[0m ') == 'bad thing here[0m'

    def test_limit(self):
        assert sanitize.one_line('x' * 10, 4) == 'xxxx...'
        assert sanitize.one_line('xxxx', 4) == 'xxxx'

    def test_forged_fatal_line_stays_on_the_line(self):
        assert sanitize.one_line('ok\nfatal: [h]: FAILED!') == 'ok fatal: [h]: FAILED!'


class TestVisible:
    def test_printable_names_unchanged(self):
        assert sanitize.visible('ci-reader (replacing k1 #0a1b2c3d)') == 'ci-reader (replacing k1 #0a1b2c3d)'
        assert sanitize.visible(None) is None

    def test_control_characters_become_escapes(self):
        assert sanitize.visible('a\x1b[31m\nb\u202ec\U000e0001') == 'a\\x1b[31m\\x0ab\\u202ec\\U000e0001'

    def test_names_that_differ_only_in_a_control_character_stay_different(self):
        assert sanitize.visible('ci\x1b') != sanitize.visible('ci\x07') != 'ci'

    @pytest.mark.parametrize('text', HOSTILE)
    def test_result_is_printable(self, text):
        assert sanitize.visible(text).isprintable()


class TestScrubber:
    def test_masks_the_token_and_added_secrets_longest_first(self):
        scrubber = sanitize.Scrubber('token-123456')
        scrubber.add('secret-abcdefgh')
        scrubber.add('secret-abcdefgh-longer')
        assert scrubber.text('x token-123456 secret-abcdefgh-longer\nsecret-abcdefgh') == 'x ******** ******** ********'

    def test_short_values_are_not_masked(self):
        scrubber = sanitize.Scrubber('abc')
        scrubber.add(None)
        scrubber.add('')
        assert scrubber.text('abc') == 'abc'

    def test_result_leaves_secret_values_and_folds_messages(self):
        scrubber = sanitize.Scrubber('token-123456')
        scrubber.add('secret-abcdefgh')
        result = scrubber.result(dict(
            msg='a\x1b[2J secret-abcdefgh', secret='secret-abcdefgh', failures=['1: token-123456\nfatal'],
            new_secrets=[dict(secret='secret-abcdefgh', name='n')], changes=[dict(before=dict(name='token-123456'))],
            changed=True, count=3))
        assert result == dict(msg='a[2J ********', secret='secret-abcdefgh', failures=['1: ******** fatal'],
                              new_secrets=[dict(secret='secret-abcdefgh', name='n')],
                              changes=[dict(before=dict(name='********'))], changed=True, count=3)


class TestServerText:
    @pytest.mark.parametrize('opaque', [
        'Zr8Jk2M1q9TnE4wXv7Ya0c3Lp6Ub5Hs_-Ddfe',                      # a urlsafe secret
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',  # a JWT
        'fb-test-admin-token-0123456789abcdef',
    ])
    def test_opaque_strings_are_masked(self, opaque):
        assert sanitize.server_text('bad request: %s (try again)' % opaque) == 'bad request: ******** (try again)'

    @pytest.mark.parametrize('word', ['5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21', 'FBK7Q2M9X4L0P3R8T6W1',
                                      'internationalisationarchitecture', '123456789012345678901234567890'])
    def test_ids_and_words_are_kept(self, word):
        assert sanitize.server_text('key %s failed' % word) == 'key %s failed' % word

    def test_limit_after_masking(self):
        assert sanitize.server_text('a ' + 'Zr8Jk2M1q9TnE4wXv7Ya0c3Lp6' * 5, 12) == 'a ********'
        assert sanitize.server_text('x' * 30, 10) == 'x' * 10 + '...'
