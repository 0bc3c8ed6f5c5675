/**
 * Usage errors through the built CLI: exit 2 and a message that names the
 * flag or command, what was wrong and how to write it, from the build's own
 * option loop, the compose and verify parsers and commander alike. None of
 * these reaches docker (the environment names none) or writes a file.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { listDir, noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

describe('usage errors exit 2', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test.each<[string, RegExp]>([
    ['--secret', /^secbuild: --secret needs a value; see secbuild build --help\.$/m],
    ['--secret id=x,from=nope:y .', /^secbuild: --secret id=x from= is not a secret reference \("nope:" is not a known scheme\); write SCHEME:KEY with one of env:, file:, keychain:, cmd:, pass:, aws-sm:, aws-ssm:, vault:, age:, op: /m],
    ['--netrc machine=x .', /^secbuild: --netrc: needs login=; write --netrc machine=HOST,login=LOGIN,password=env:TOKEN\.$/m],
    ['compose', /^secbuild: secbuild compose needs a command: secbuild compose \[-f FILE…\] build\|up\|down \[SERVICE…\]\.$/m],
    ['compose run', /^secbuild: secbuild compose runs build, up and down, got "run"/m],
    ['run', /^secbuild: secbuild run needs an image: secbuild run \[options\] IMAGE \[COMMAND \[ARG\.\.\.\]\]\.$/m],
    ['verify', /^secbuild: secbuild verify needs an image: /m],
    ['secret set', /missing required argument 'service\/account'/],
    ['secrets --bogus', /unknown option '--bogus'/],
    ['doctor extra', /too many arguments for 'doctor'/],
    // Typos stop before a build of a directory that does not exist (issue 11).
    ['docter', /^secbuild: unknown command 'docter'; did you mean 'doctor'\?$/m],
    ['verfy myimage', /^secbuild: unknown command 'verfy'; did you mean 'verify'\?$/m],
    ['chek .', /^secbuild: unknown command 'chek'; did you mean 'check'\?$/m],
    ['--secrt id=x,from=env:X .', /^secbuild: unknown option --secrt; did you mean --secret\?$/m],
    ['-v', /^secbuild: unknown option -v; did you mean -V \(--version\)\?$/m],
    ['--made-up-flag .', /^secbuild: unknown option --made-up-flag: not a secbuild option nor a docker build flag; see secbuild build --help\.$/m],
  ])('secbuild %s', async (line, message) => {
    const r = await runCli(line.split(' '), { env: noDockerEnv(box) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(listDir(box.tmp)).toEqual([]);
  });
});
