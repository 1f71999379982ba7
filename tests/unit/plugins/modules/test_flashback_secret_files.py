# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest
import yaml
from hypothesis import given, strategies as st

from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikeys
from ansible_collections.flashback.platform.plugins.module_utils import _secret_files as secret_files
from ansible_collections.flashback.platform.plugins.module_utils._secret_files import SecretFilesError, encode, plan_files
from ansible_collections.flashback.platform.plugins.modules import flashback_secret_files as module_under_test
from ansible_collections.flashback.platform.plugins.modules.flashback_secret_files import write_secret_files

SECRET = 'S3cr3t-do-not-print-0123456789'


def secret(repo_id='r1', name='ci-reader', value=SECRET, **fields):
    entry = dict(repo_id=repo_id, name=name, repo_name=None, id='id-%s-%s' % (repo_id, name), key='FBK1',
                 access='READ', secret=value)
    entry.update(fields)
    return entry


def without_access(entry):
    return dict((field, value) for field, value in entry.items() if field != 'access')


def decode(encoded):
    """The inverse of encode, also of its lowercased form: with it, encode is injective, also once case is folded."""
    base, dummy, positions = encoded.partition('~')
    upper = set(int(position) for position in positions.split('.')) if positions else set()
    out = bytearray()
    index = 0
    while index < len(base):
        if base[index] == '%':
            out.append(int(base[index + 1:index + 3], 16))
            index += 3
        else:
            out.append(ord(base[index].upper() if index in upper else base[index].lower()))
            index += 1
    return out.decode('utf-8', 'surrogatepass')


def tree(root):
    """Every path under ``root`` (relative) with its type and permission bits, links not followed."""
    found = {}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            mode = os.lstat(path).st_mode
            kind = 'link' if stat.S_ISLNK(mode) else 'dir' if stat.S_ISDIR(mode) else 'file'
            found[os.path.relpath(path, str(root))] = (kind, stat.S_IMODE(mode))
    return found


@pytest.fixture
def umask_000():
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def keys_dir(tmp_path):
    return str(tmp_path / 'keys')


class TestEncode:
    @pytest.mark.parametrize('text, expected', [
        ('ci-reader', 'ci-reader'),
        ('r1', 'r1'),
        ('svc_backup.prod', 'svc_backup.prod'),
        ('GitHub-Actions', 'GitHub-Actions~0.3.7'),
        ('CI', 'CI~0.1'),
        ('ci', 'ci'),
        ('svc/one', 'svc%2Fone'),
        ('svc_one', 'svc_one'),
        ('..', '%2E.'),
        ('.', '%2E'),
        ('.hidden', '%2Ehidden'),
        ('x.json', 'x.json'),
        ('a b', 'a%20b'),
        ('aged-2 (replacing k1 #ab)', 'aged-2%20%28replacing%20k1%20%23ab%29'),
        (u'é', '%C3%A9'),
        ('%2F', '%252F~4'),
        ('a~1', 'a%7E1'),
        ('\\', '%5C'),
        ('\x00', '%00'),
    ])
    def test_table(self, text, expected):
        assert encode(text) == expected
        assert decode(expected) == text

    @given(st.text())
    def test_injective_also_case_folded(self, text):
        encoded = encode(text)
        assert decode(encoded) == text
        assert decode(encoded.lower()) == text

    @given(st.text(), st.text())
    def test_distinct_texts_never_share_a_file_name(self, one, other):
        if one != other:
            assert encode(one).lower() != encode(other).lower()

    @pytest.mark.parametrize('one, other', [('GitHub', 'GITHUB'), ('github', 'GitHub'), ('a~0', 'A'),
                                            ('ci', 'CI'), ('x%41', 'xA')])
    def test_names_differing_in_case_get_different_files(self, one, other):
        assert encode(one).lower() != encode(other).lower()

    @given(st.text(min_size=1))
    def test_a_plain_file_name(self, text):
        encoded = encode(text)
        assert set(encoded) <= set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.%~')
        assert '/' not in encoded and not encoded.startswith('.') and encoded not in ('', '.', '..')


class TestPlanFiles:
    def test_names_that_look_alike_get_their_own_files(self):
        planned = plan_files([secret(name='svc/one'), secret(name='svc_one'), secret(name='SVC_ONE')])
        assert [(directory, name) for _secret, directory, name in planned] == [
            ('r1', 'svc%2Fone.json'), ('r1', 'svc_one.json'), ('r1', 'SVC_ONE~0.1.2.4.5.6.json')]

    def test_the_same_key_twice_is_refused(self):
        with pytest.raises(SecretFilesError) as caught:
            plan_files([secret(name='a'), secret(name='b'), secret(name='a', value='other')])
        assert caught.value.message == ("secrets 1 and 3 both go to r1/a.json (repository 'r1', name 'a'): pass each "
                                        "key once; nothing was written")

    @pytest.mark.parametrize('field', ['repo_id', 'name'])
    def test_long_names_are_refused(self, field):
        plan_files([secret(**{field: 'a' * 200})])
        with pytest.raises(SecretFilesError) as caught:
            plan_files([secret(**{field: 'a' * 201})])
        assert '%s ' % field in caught.value.message and '201 bytes once encoded' in caught.value.message
        with pytest.raises(SecretFilesError) as caught:
            plan_files([secret(**{field: u'é' * 34})])  # 68 bytes, 204 once encoded
        assert '204 bytes once encoded' in caught.value.message

    @pytest.mark.parametrize('field', ['repo_id', 'name'])
    def test_empty_names_are_refused(self, field):
        with pytest.raises(SecretFilesError) as caught:
            plan_files([secret(), secret(**{field: ''})])
        assert caught.value.message == 'secret 2 has no %s; nothing was written' % field


class TestWriteSecretFiles:
    def test_writes_one_private_file_per_secret(self, tmp_path, keys_dir, umask_000):
        secrets = [secret(name='svc/one', value='first'), secret(name='svc_one', value='second'),
                   secret(repo_id='r2', name='ingest', repo_name='media', access='WRITE', value='third')]
        result = write_secret_files(keys_dir, secrets, check_mode=False)
        assert result == dict(changed=True, files=[
            dict(repo_id='r1', name='svc/one', id='id-r1-svc/one', path=os.path.join(keys_dir, 'r1', 'svc%2Fone.json'),
                 changed=True),
            dict(repo_id='r1', name='svc_one', id='id-r1-svc_one', path=os.path.join(keys_dir, 'r1', 'svc_one.json'),
                 changed=True),
            dict(repo_id='r2', name='ingest', id='id-r2-ingest', path=os.path.join(keys_dir, 'r2', 'ingest.json'),
                 changed=True)])
        # Under umask 000: 0700 directories, 0600 files; no temporary file left behind.
        assert tree(tmp_path) == {'keys': ('dir', 0o700), 'keys/r1': ('dir', 0o700), 'keys/r2': ('dir', 0o700),
                                  'keys/r1/svc%2Fone.json': ('file', 0o600), 'keys/r1/svc_one.json': ('file', 0o600),
                                  'keys/r2/ingest.json': ('file', 0o600)}
        for entry, listed in zip(secrets, result['files']):
            with open(listed['path']) as handle:
                assert json.load(handle) == without_access(entry)  # no access: it would go stale after a PUT

    def test_file_is_0600_from_its_first_byte(self, keys_dir, umask_000, monkeypatch):
        modes = []
        real_fdopen = os.fdopen

        def spy_fdopen(fd, *args, **kwargs):
            modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # before anything is written to it
            return real_fdopen(fd, *args, **kwargs)
        monkeypatch.setattr(module_under_test.os, 'fdopen', spy_fdopen)
        write_secret_files(keys_dir, [secret()], check_mode=False)
        assert modes == [0o600]

    def test_missing_parents_are_created_0700(self, tmp_path, umask_000):
        write_secret_files(str(tmp_path / 'a' / 'b' / 'keys'), [secret()], check_mode=False)
        assert tree(tmp_path) == {'a': ('dir', 0o700), 'a/b': ('dir', 0o700), 'a/b/keys': ('dir', 0o700),
                                  'a/b/keys/r1': ('dir', 0o700), 'a/b/keys/r1/ci-reader.json': ('file', 0o600)}

    def test_dot_dot_stays_inside(self, tmp_path, keys_dir):
        os.mkdir(keys_dir, 0o700)
        before = os.stat(str(tmp_path))
        result = write_secret_files(keys_dir, [secret(repo_id='..'), secret(repo_id='.'), secret(repo_id='../x'),
                                               secret(repo_id='r1', name='../../escaped')], check_mode=False)
        assert sorted(tree(tmp_path)) == sorted(['keys', 'keys/%2E', 'keys/%2E/ci-reader.json', 'keys/%2E.',
                                                 'keys/%2E./ci-reader.json', 'keys/%2E.%2Fx', 'keys/%2E.%2Fx/ci-reader.json',
                                                 'keys/r1', 'keys/r1/%2E.%2F..%2Fescaped.json'])
        assert all(os.path.dirname(os.path.dirname(f['path'])) == keys_dir for f in result['files'])
        assert os.stat(str(tmp_path)).st_mode == before.st_mode  # the parent was not chmodded

    def test_a_link_at_the_destination_is_replaced_not_followed(self, tmp_path, keys_dir):
        victim = tmp_path / 'victim'
        victim.write_text(u'original')
        os.chmod(str(victim), 0o644)
        os.makedirs(os.path.join(keys_dir, 'r1'), 0o700)
        os.symlink(str(victim), os.path.join(keys_dir, 'r1', 'ci-reader.json'))
        result = write_secret_files(keys_dir, [secret()], check_mode=False)
        assert result['changed'] is True
        assert victim.read_text() == u'original' and stat.S_IMODE(victim.stat().st_mode) == 0o644
        written = os.path.join(keys_dir, 'r1', 'ci-reader.json')
        assert stat.S_ISREG(os.lstat(written).st_mode)
        with open(written) as handle:
            assert json.load(handle)['secret'] == SECRET

    def test_a_dangling_link_at_the_destination_creates_nothing_where_it_points(self, tmp_path, keys_dir):
        os.makedirs(os.path.join(keys_dir, 'r1'), 0o700)
        os.symlink(str(tmp_path / 'planted'), os.path.join(keys_dir, 'r1', 'ci-reader.json'))
        write_secret_files(keys_dir, [secret()], check_mode=False)
        assert not (tmp_path / 'planted').exists()
        assert stat.S_ISREG(os.lstat(os.path.join(keys_dir, 'r1', 'ci-reader.json')).st_mode)

    @pytest.mark.parametrize('link', ['keys', 'keys/r1'])
    def test_a_linked_directory_is_refused(self, tmp_path, keys_dir, link):
        real = tmp_path / 'real'
        real.mkdir(mode=0o700)
        if link == 'keys/r1':
            os.mkdir(keys_dir, 0o700)
        os.symlink(str(real), str(tmp_path / link))
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(str(tmp_path / link) + '/' if link == 'keys' else keys_dir,
                               [secret(repo_id='r0'), secret()], check_mode=False)
        assert caught.value.message == ('secrets directory %s is a symbolic link: give the directory it points to, '
                                        'or choose another directory' % (tmp_path / link))
        assert list(real.iterdir()) == []
        assert not (tmp_path / 'keys' / 'r0').exists()

    @pytest.mark.parametrize('mode', [0o775, 0o757, 0o777])
    @pytest.mark.parametrize('where', ['keys', 'keys/r1'])
    def test_a_directory_others_can_write_is_refused(self, tmp_path, keys_dir, mode, where):
        os.makedirs(os.path.join(keys_dir, 'r1'), 0o700)
        os.chmod(str(tmp_path / where), mode)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret(repo_id='r0'), secret()], check_mode=False)
        path = tmp_path / where
        assert caught.value.message == ('secrets directory %s is writable by group or others (mode %04o): chmod go-w '
                                        '%s, or choose another directory' % (path, mode, path))
        assert sorted(tree(tmp_path)) == ['keys', 'keys/r1']

    def test_a_readable_directory_is_accepted(self, keys_dir):
        os.mkdir(keys_dir, 0o755)
        write_secret_files(keys_dir, [secret()], check_mode=False)
        assert stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o755  # left as it was

    def test_a_directory_of_another_user_is_refused(self, keys_dir, monkeypatch):
        os.mkdir(keys_dir, 0o700)
        owner = os.stat(keys_dir).st_uid
        monkeypatch.setattr(module_under_test.os, 'geteuid', lambda: owner + 4242)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret()], check_mode=False)
        assert caught.value.message == ('secrets directory %s is owned by uid %d, not by you (uid %d): choose another '
                                        'directory' % (keys_dir, owner, owner + 4242))
        assert os.listdir(keys_dir) == []

    def test_a_file_where_the_directory_should_be_is_refused(self, tmp_path, keys_dir):
        os.mkdir(keys_dir, 0o700)
        (tmp_path / 'keys' / 'r1').write_text(u'x')
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret()], check_mode=False)
        assert caught.value.message == 'secrets directory %s exists and is not a directory' % (tmp_path / 'keys' / 'r1')

    def test_a_directory_at_a_destination_refuses_every_write(self, keys_dir):
        os.makedirs(os.path.join(keys_dir, 'r1', 'b.json'), 0o700)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret(name='a'), secret(name='b')], check_mode=False)
        assert caught.value.message == ('%s exists and is not a file: move it away; nothing was written'
                                        % os.path.join(keys_dir, 'r1', 'b.json'))
        assert os.listdir(os.path.join(keys_dir, 'r1')) == ['b.json']

    def test_colliding_secrets_write_nothing(self, tmp_path, keys_dir):
        with pytest.raises(SecretFilesError):
            write_secret_files(keys_dir, [secret(name='a'), secret(name='a')], check_mode=False)
        assert tree(tmp_path) == {}

    def test_check_mode_writes_nothing(self, tmp_path, keys_dir):
        result = write_secret_files(keys_dir, [secret(), secret(repo_id='r2')], check_mode=True)
        assert result['changed'] is True
        assert [f['changed'] for f in result['files']] == [True, True]
        assert [f['path'] for f in result['files']] == [os.path.join(keys_dir, 'r1', 'ci-reader.json'),
                                                        os.path.join(keys_dir, 'r2', 'ci-reader.json')]
        assert tree(tmp_path) == {}

        write_secret_files(keys_dir, [secret()], check_mode=False)
        before = tree(tmp_path)
        result = write_secret_files(keys_dir, [secret(), secret(repo_id='r2'), secret(name='other')], check_mode=True)
        assert [f['changed'] for f in result['files']] == [False, True, True]
        assert tree(tmp_path) == before

    def test_check_mode_still_refuses(self, keys_dir):
        os.mkdir(keys_dir, 0o770)
        os.chmod(keys_dir, 0o770)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret()], check_mode=True)
        assert 'writable by group or others (mode 0770)' in caught.value.message

    def test_a_rerun_with_the_same_secrets_writes_nothing(self, keys_dir, monkeypatch):
        secrets = [secret(), secret(repo_id='r2', name='ingest')]
        assert write_secret_files(keys_dir, secrets, check_mode=False)['changed'] is True
        inodes = [os.stat(f['path']).st_ino for f in write_secret_files(keys_dir, secrets, True)['files']]

        def no_write(*args, **kwargs):
            raise AssertionError('wrote on a rerun')
        monkeypatch.setattr(module_under_test, '_write', no_write)
        result = write_secret_files(keys_dir, secrets, check_mode=False)
        assert result['changed'] is False and [f['changed'] for f in result['files']] == [False, False]
        assert [os.stat(f['path']).st_ino for f in result['files']] == inodes

    @pytest.mark.parametrize('drift', ['content', 'mode'])
    def test_a_drifted_file_is_rewritten(self, keys_dir, drift):
        path = write_secret_files(keys_dir, [secret()], check_mode=False)['files'][0]['path']
        if drift == 'content':
            with open(path, 'w') as handle:
                handle.write('{}')
        else:
            os.chmod(path, 0o644)
        result = write_secret_files(keys_dir, [secret()], check_mode=False)
        assert result['changed'] is True
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        with open(path) as handle:
            assert json.load(handle) == without_access(secret())

    def test_a_new_secret_replaces_the_file(self, keys_dir):
        write_secret_files(keys_dir, [secret(value='old-secret')], check_mode=False)
        result = write_secret_files(keys_dir, [secret(value='new-secret')], check_mode=False)
        assert result['changed'] is True
        with open(result['files'][0]['path']) as handle:
            assert json.load(handle)['secret'] == 'new-secret'

    def test_a_failed_write_leaves_no_temporary_file(self, tmp_path, keys_dir, monkeypatch):
        def failing_replace(*args, **kwargs):
            raise OSError(28, 'No space left on device')
        monkeypatch.setattr(module_under_test.os, 'replace', failing_replace)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret()], check_mode=False)
        assert caught.value.message == ('could not write %s: No space left on device (0 of 1 files written before: '
                                        'none)' % os.path.join(keys_dir, 'r1', 'ci-reader.json'))
        assert sorted(tree(tmp_path)) == ['keys', 'keys/r1']

    def test_a_failed_write_says_which_files_hold_their_secret(self, keys_dir, monkeypatch):
        write_secret_files(keys_dir, [secret(name='current')], check_mode=False)
        real_replace = os.replace
        calls = []

        def second_replace_fails(*args, **kwargs):
            calls.append(args)
            if len(calls) == 2:
                raise OSError(28, 'No space left on device')
            return real_replace(*args, **kwargs)
        monkeypatch.setattr(module_under_test.os, 'replace', second_replace_fails)
        with pytest.raises(SecretFilesError) as caught:
            write_secret_files(keys_dir, [secret(name='first'), secret(name='current'), secret(name='failing'),
                                          secret(name='never')], check_mode=False)
        files = caught.value.details['files']
        # first: written before the failure; current: already held its secret; failing and never: not written.
        assert [(f['name'], f['id'], f['written']) for f in files] == [
            ('first', 'id-r1-first', True), ('current', 'id-r1-current', True), ('failing', 'id-r1-failing', False),
            ('never', 'id-r1-never', False)]
        assert caught.value.details['written'] == [os.path.join(keys_dir, 'r1', 'first.json')]

    def test_no_secret_in_results_or_messages(self, tmp_path, keys_dir):
        outputs = [write_secret_files(keys_dir, [secret()], check_mode=True),
                   write_secret_files(keys_dir, [secret()], check_mode=False),
                   write_secret_files(keys_dir, [secret()], check_mode=False)]
        os.chmod(keys_dir, 0o777)
        for secrets in ([secret()], [secret(), secret()], [secret(name='n' * 201)]):
            with pytest.raises(SecretFilesError) as caught:
                write_secret_files(keys_dir, secrets, check_mode=False)
            outputs.append(caught.value.fail_kwargs())
        assert [output.get('changed') for output in outputs] == [True, True, False, None, None, None]
        for output in outputs:
            assert SECRET not in json.dumps(output)

    def test_takes_what_flashback_repo_apikeys_returns(self, fake_api, make_module, keys_dir):
        module = make_module(apikeys=[dict(repo_id='r1', name='svc/one'), dict(repo_name='media', name='svc_one')],
                             exclusive=False, protected=[], max_age_days=None, concurrency=4, phase='all', delivered=[])
        new_secrets = flashback_repo_apikeys.run(module, fake_api)['new_secrets']
        result = write_secret_files(keys_dir, new_secrets, check_mode=False)
        for entry, listed in zip(new_secrets, result['files']):
            with open(listed['path']) as handle:
                assert json.load(handle) == without_access(entry)
        paths = [os.path.relpath(f['path'], keys_dir) for f in result['files']]
        assert paths == ['r1/svc%2Fone.json', 'r2/svc_one.json']


class TestSchema:
    def test_secrets_take_the_fields_new_secrets_returns(self):
        returned = yaml.safe_load(flashback_repo_apikeys.RETURN)['new_secrets']['contains']
        documented = yaml.safe_load(module_under_test.DOCUMENTATION)['options']['secrets']['suboptions']
        assert set(returned) == set(documented) == set(secret_files.SECRET_SPEC)
        # Everything but access goes into the file: access changes in place (PUT), the file would go stale.
        assert set(secret_files.FIELDS) == set(secret_files.SECRET_SPEC) - {'access'}
        assert [name for name, spec in secret_files.SECRET_SPEC.items() if spec.get('no_log')] == ['secret']


class TestMain:
    def run_main(self, module_args, capsys, args):
        with module_args(args):
            with pytest.raises(SystemExit):
                module_under_test.main()
        out = capsys.readouterr().out
        assert SECRET not in out
        return json.loads(out)

    def test_writes_through_main(self, module_args, capsys, keys_dir):
        out = self.run_main(module_args, capsys, dict(path=keys_dir, secrets=[secret()]))
        assert out['changed'] is True
        assert out['files'] == [dict(repo_id='r1', name='ci-reader', id='id-r1-ci-reader',
                                     path=os.path.join(keys_dir, 'r1', 'ci-reader.json'), changed=True)]
        with open(out['files'][0]['path']) as handle:
            assert json.load(handle)['secret'] == SECRET

    def test_check_mode_through_main(self, module_args, capsys, tmp_path, keys_dir):
        out = self.run_main(module_args, capsys, dict(path=keys_dir, secrets=[secret()], _ansible_check_mode=True))
        assert out['changed'] is True and out['files'][0]['changed'] is True
        assert tree(tmp_path) == {}

    def test_refusal_through_main(self, module_args, capsys, keys_dir):
        os.mkdir(keys_dir, 0o700)
        os.chmod(keys_dir, 0o775)
        out = self.run_main(module_args, capsys, dict(path=keys_dir, secrets=[secret()]))
        assert out['failed'] is True
        assert out['msg'].startswith('secrets directory %s is writable by group or others (mode 0775)' % keys_dir)

    def test_unknown_fields_are_refused(self, module_args, capsys, keys_dir):
        out = self.run_main(module_args, capsys, dict(path=keys_dir, secrets=[secret(token='x')]))
        assert out['failed'] is True and 'token' in out['msg']
