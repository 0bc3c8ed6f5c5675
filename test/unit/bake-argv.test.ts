/**
 * `secbuild bake`'s pure parts: the command line split (src/args/bake.ts),
 * bake's --print JSON read (src/engines/docker/bake.ts) and the --set words
 * that serve secbuild's files while keeping a target's own entries.
 */
import { describe, expect, test } from 'vitest';
import { parseBakeArgs } from '../../src/args/bake.js';
import { bakeArgv, bakePrintArgv, checkSecretSets, parseBakePrint, secretEntryId } from '../../src/engines/docker/bake.js';

describe('parseBakeArgs', () => {
  test("secbuild's options anywhere, bake's verbatim and in order, targets last", () => {
    const a = parseBakeArgs(['-f', 'docker-bake.hcl', '--secret', 'id=tok,from=env:T', '--set', 'a.tags=x', 'a', '--no-cache', '--metadata-file=m.json', 'b', '--dry-run']);
    expect(a.secrets).toEqual(['id=tok,from=env:T']);
    expect(a.dryRun).toBe(true);
    expect(a.files).toEqual(['docker-bake.hcl']);
    expect(a.sets).toEqual(['a.tags=x']);
    expect(a.bakeArgs).toEqual(['-f', 'docker-bake.hcl', '--set', 'a.tags=x', '--no-cache', '--metadata-file', 'm.json']);
    expect(a.targets).toEqual(['a', 'b']);
  });

  test('a value option never takes a target, --print is seen, --verify is not an option of bake yet', () => {
    const a = parseBakeArgs(['--progress', 'plain', '--print', 'web']);
    expect(a).toMatchObject({ progress: 'plain', print: true, targets: ['web'] });
    expect(a.bakeArgs).toEqual(['--progress', 'plain', '--print']);
    expect(parseBakeArgs(['--verify'])).toMatchObject({ verify: true, bakeArgs: [] });
    expect(parseBakeArgs(['--ssh-key', 'gh=file:k'])).toMatchObject({ sshKeys: ['gh=file:k'], bakeArgs: [] });
    expect(() => parseBakeArgs(['--engine', 'podman'])).toThrow('secbuild bake does not take --engine: bake is docker buildx');
    expect(() => parseBakeArgs(['--load=1'])).toThrow('--load takes no value');
  });
});

const PRINT = JSON.stringify({
  group: { default: { targets: ['a', 'b'] } },
  target: {
    a: { context: 'app', dockerfile: 'Dockerfile', args: { X: '1' }, labels: { L: '2' }, tags: ['img-a'], secret: ['id=tok,env=TOK', 'type=file,id=other,src=o.txt'] },
    b: { context: 'app', 'dockerfile-inline': 'FROM x\n', target: 'final', ssh: ['default'] },
  },
});

describe('bake --print and the --set words', () => {
  test('the targets as bake resolved them', () => {
    const [a, b] = parseBakePrint(PRINT, 'docker buildx bake --print');
    expect(a).toMatchObject({ name: 'a', context: 'app', dockerfile: 'Dockerfile', args: { X: '1' }, labels: { L: '2' }, secret: ['id=tok,env=TOK', 'type=file,id=other,src=o.txt'] });
    expect(b).toMatchObject({ name: 'b', dockerfileInline: 'FROM x\n', target: 'final', ssh: ['default'], secret: [] });
    expect(() => parseBakePrint('#1 loading', 'docker buildx bake --print')).toThrow('did not print a bake definition');
  });

  test('secretEntryId reads the id field wherever it stands', () => {
    expect(secretEntryId('id=tok,env=TOK')).toBe('tok');
    expect(secretEntryId('type=file,id=other,src=o.txt')).toBe('other');
    expect(secretEntryId('type=env,env=X')).toBeUndefined();
  });

  test("a served target gets its whole list again: its own entries for other ids kept verbatim, then secbuild's files; the user's --set of its secrets is replaced", () => {
    const targets = parseBakePrint(PRINT, 'p');
    const files = [{ id: 'tok', path: '/run/d/00-tok' }];
    const argv = bakeArgv(['--set', 'a.secrets=id=tok,env=TOK', '--set=a.tags=t', '--no-cache'], targets, new Map([['a', files], ['b', []]]), ['a']);
    expect(argv).toEqual(['buildx', 'bake', '--set=a.tags=t', '--no-cache', '--set', 'a.secrets=type=file,id=other,src=o.txt', '--set', 'a.secrets=id=tok,src=/run/d/00-tok', '--', 'a']);
    // A target served nothing keeps its list as the file has it: no --set for it.
    expect(bakeArgv([], targets, new Map(), [])).toEqual(['buildx', 'bake']);
    expect(bakePrintArgv(['x.hcl'], ['a.tags=t'], ['a'])).toEqual(['buildx', 'bake', '-f', 'x.hcl', '--set', 'a.tags=t', '--print', '--', 'a']);
  });

  test("ssh agents: a target's own ssh entries for other ids kept, secbuild's agent replaces one for the same id; the user's --set of its ssh is replaced; extra sets last", () => {
    const targets = parseBakePrint(PRINT, 'p');
    targets[1]!.ssh = ['default', 'gh=/home/u/.ssh/id'];
    const argv = bakeArgv(['--set', 'b.ssh=other', '--set', 'a.ssh=keep'], targets, new Map(), ['a', 'b'], {
      ssh: new Map([['b', ['gh=/run/d/ssh-gh.sock']]]),
      sets: ['b.dockerfile=/run/d/dockerfile-0/Dockerfile', 'b.args.SECBUILD_CACHE_tok=abc'],
    });
    expect(argv).toEqual([
      'buildx', 'bake', '--set', 'a.ssh=keep',
      '--set', 'b.ssh=default', '--set', 'b.ssh=gh=/run/d/ssh-gh.sock',
      '--set', 'b.dockerfile=/run/d/dockerfile-0/Dockerfile', '--set', 'b.args.SECBUILD_CACHE_tok=abc',
      '--', 'a', 'b',
    ]);
  });

  test('a --set of secrets or ssh through a pattern is refused (secbuild replaces lists per target)', () => {
    expect(() => checkSecretSets(['*.secrets=id=x,env=X'])).toThrow('name the target instead of a pattern');
    expect(() => checkSecretSets(['*.ssh=default'])).toThrow('(--set TARGET.ssh=…)');
    expect(() => checkSecretSets(['a.secrets=id=x,env=X', '*.tags=t'])).not.toThrow();
  });
});
