import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkDockerfile, preflightLeaks, type CheckOptions } from '../../src/check/index.js';
import { splitFormat } from '../../src/args/check.js';
import { UsageError } from '../../src/util/errors.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const df = (...lines: string[]) => lines.join('\n') + '\n';

/** A context with a Dockerfile and `files`; file contents are placeholders, never real secrets. */
function context(dockerfile: string, files: Record<string, string> = {}): { dir: string; opts: CheckOptions } {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-check-'));
  dirs.push(dir);
  for (const [rel, content] of Object.entries({ Dockerfile: dockerfile, ...files })) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return { dir, opts: { dockerfile, path: join(dir, 'Dockerfile'), context: dir, cwd: dir } };
}

const none = { provided: new Set<string>(), optional: new Set<string>() };
const ids = (...p: string[]) => ({ provided: new Set(p), optional: new Set<string>() });

/** "rule@line" (or "rule@file" for findings without a line), in report order. */
async function run(dockerfile: string, files: Record<string, string> = {}, extra: Partial<CheckOptions> = {}): Promise<string[]> {
  const { opts } = context(dockerfile, files);
  const { findings } = await checkDockerfile({ ...opts, ...extra });
  return findings.map((f) => `${f.rule}@${f.line ?? f.file}`);
}

describe('checkDockerfile: one rule at a time', () => {
  test.each<[string, string, Record<string, string>, Partial<CheckOptions>, string[]]>([
    // secret-id-missing / secret-id-unused: the preflight's rules
    ['mounted id not provided', df('FROM a', 'RUN --mount=type=secret,id=npm true'), {}, { secrets: none }, ['secret-id-missing@2']],
    ['mount on a continuation line: its own line', df('FROM a', 'RUN --mount=type=secret,id=a \\', '    --mount=type=secret,id=b true'), {}, { secrets: ids('a') }, ['secret-id-missing@3']],
    ['provided and not mounted', df('FROM a', 'RUN --mount=type=secret,id=npm true'), {}, { secrets: ids('npm', 'spare') }, ['secret-id-unused@Dockerfile']],
    ['no secrets option: secret-id rules off', df('FROM a', 'RUN --mount=type=secret,id=npm true'), {}, {}, []],
    // secret-in-arg-or-env
    ['ARG and ENV names, values never matter', df('FROM a', 'ARG GITHUB_TOKEN', 'ARG PUBLIC_KEY=x', 'ENV NODE_ENV=production DB_PASSWORD=x', 'ENV API_KEY value'), {}, {}, ['secret-in-arg-or-env@2', 'secret-in-arg-or-env@4', 'secret-in-arg-or-env@5']],
    ['global ARG before FROM is not checked (as in BuildKit)', df('ARG GITHUB_TOKEN', 'FROM a'), {}, {}, []],
    // credential-file-copied
    ['explicit COPY and ADD, any depth', df('FROM a', 'COPY .npmrc /root/', 'ADD conf/.netrc /root/.netrc', 'COPY ["home/.docker/config.json", "/root/.docker/"]'), {}, {}, ['credential-file-copied@2', 'credential-file-copied@3', 'credential-file-copied@4']],
    ['explicit copy is an error even when the file is absent or ignored', df('FROM a', 'COPY ./.env /app/'), { '.dockerignore': '.env\n' }, {}, ['credential-file-copied@2']],
    ['COPY . . takes what the context holds', df('FROM a', 'COPY . .'), { '.env': 'x', 'src/a.js': 'x' }, {}, ['credential-file-copied@2']],
    ['directory copy of a subdirectory', df('FROM a', 'COPY config /app/config'), { 'config/.aws/credentials': 'x', 'other/.npmrc': 'x' }, {}, ['credential-file-copied@2', 'credential-file-in-context@other/.npmrc']],
    ['glob copy', df('FROM a', 'COPY .n* /root/'), { '.npmrc': 'x' }, {}, ['credential-file-copied@2']],
    ['a plain file copy does not walk the context', df('FROM a', 'COPY package.json /app/'), { 'package.json': '{}', '.npmrc': 'x' }, {}, ['credential-file-in-context@.npmrc']],
    ['.dockerignore excludes it: nothing copied, nothing in context', df('FROM a', 'COPY . .'), { '.env': 'x', '.dockerignore': '**/.env\n' }, {}, []],
    ['negation pattern keeps the template only', df('FROM a', 'COPY . .'), { '.env': 'x', '.env.example': 'x', '.dockerignore': '.env*\n!.env.example\n' }, {}, []],
    ['COPY --exclude keeps it out of that copy', df('FROM a', 'COPY --exclude=**/.npmrc . .'), { 'a/.npmrc': 'x' }, {}, ['credential-file-in-context@a/.npmrc']],
    ['COPY --from, heredocs and URLs are not context sources', df('FROM a AS b', 'FROM a', 'COPY --from=b /root/.npmrc /x', 'COPY <<EOF /root/.npmrc', 'registry=x', 'EOF', 'ADD https://example.com/.netrc /x'), {}, {}, []],
    // credential-file-in-context
    ['in the context, not copied', df('FROM a', 'RUN true'), { 'deep/er/id_rsa': 'x', '.git-credentials': 'x', 'id_rsa.pub': 'x' }, {}, ['credential-file-in-context@.git-credentials', 'credential-file-in-context@deep/er/id_rsa']],
    // secret-written-to-layer
    ['RUN copies its secret into the image', df('FROM a', 'RUN --mount=type=secret,id=npm cp /run/secrets/npm /root/.npmrc'), {}, {}, ['secret-written-to-layer@2']],
    ['custom target, cat and redirect', df('FROM a', 'RUN --mount=type=secret,id=npm,target=/root/.npmrc \\', '    cat /root/.npmrc > /app/npmrc'), {}, {}, ['secret-written-to-layer@2']],
    ['exec form sh -c', df('FROM a', 'RUN --mount=type=secret,id=t ["sh", "-c", "cat /run/secrets/t > /t"]'), {}, {}, ['secret-written-to-layer@2']],
    ['heredoc script', df('FROM a', 'RUN --mount=type=secret,id=t <<EOF', 'set -e', 'cp /run/secrets/t /etc/t', 'EOF'), {}, {}, ['secret-written-to-layer@2']],
    ['tmpfs mount of the same RUN is scratch', df('FROM a', 'RUN --mount=type=secret,id=t --mount=type=tmpfs,target=/tmp cp /run/secrets/t /tmp/t && use /tmp/t'), {}, {}, []],
    ['a RUN without a secret mount is not this rule', df('FROM a', 'RUN cp /run/secrets/t /etc/t'), {}, {}, []],
    ['env-only mounts are not followed', df('FROM a', 'RUN --mount=type=secret,id=t,env=T sh -c \'echo "$T" > /t\''), {}, {}, []],
  ])('%s', async (_name, dockerfile, files, extra, want) => {
    expect(await run(dockerfile, files, extra)).toEqual(want);
  });
});

describe('checkDockerfile: stages the build reaches', () => {
  const multi = df(
    'FROM a AS deps', //                       1
    'ARG NPM_TOKEN', //                        2
    'COPY .npmrc /root/', //                   3
    'FROM a AS tools', //                      4
    'ENV API_KEY=x', //                        5
    'FROM a AS test', //                       6
    'COPY --from=tools /x /x', //              7
    'ARG TEST_PASSWORD', //                    8
    'FROM deps', //                            9
    'RUN --mount=type=secret,id=s cp /run/secrets/s /s', // 10
  );
  test.each<[string, string | undefined, string[]]>([
    ['no target: the last stage and what it builds on', undefined, ['secret-in-arg-or-env@2', 'credential-file-copied@3', 'secret-written-to-layer@10']],
    ['--target test: test and the stage it copies from', 'test', ['secret-in-arg-or-env@5', 'secret-in-arg-or-env@8']],
    ['--target deps', 'DEPS', ['secret-in-arg-or-env@2', 'credential-file-copied@3']],
  ])('%s', async (_name, target, want) => {
    expect(await run(multi, {}, { target })).toEqual(want);
  });

  test('FROM through a global ARG and --build-arg, as the preflight reads it', async () => {
    const text = df('ARG BASE=deps', 'FROM a AS deps', 'COPY .env /', 'FROM ${BASE}', 'RUN true');
    expect(await run(text)).toEqual(['credential-file-copied@3']);
    expect(await run(text, {}, { buildArgs: { BASE: 'alpine' } })).toEqual([]);
  });

  test('an unknown --target is the scanner\'s usage error', async () => {
    await expect(run(df('FROM a AS x'), {}, { target: 'nope' })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('# secbuild-ignore RULE', () => {
  test.each<[string, string, Record<string, string>, Partial<CheckOptions>, string[]]>([
    ['directly above', df('FROM a', '# secbuild-ignore secret-in-arg-or-env', 'ARG GITHUB_TOKEN'), {}, {}, []],
    ['in a block of comments, several rules', df('FROM a', '# hadolint ignore=DL3000', '# secbuild-ignore credential-file-copied, secret-in-arg-or-env', '# why: fixture', 'COPY .npmrc /x'), {}, {}, []],
    ['names another rule: still reported', df('FROM a', '# secbuild-ignore secret-id-missing', 'ARG GITHUB_TOKEN'), {}, {}, ['secret-in-arg-or-env@3']],
    ['a blank line breaks "directly above"', df('FROM a', '# secbuild-ignore secret-in-arg-or-env', '', 'ARG GITHUB_TOKEN'), {}, {}, ['secret-in-arg-or-env@4']],
    ['only the next instruction', df('FROM a', '# secbuild-ignore secret-in-arg-or-env', 'ARG A_TOKEN', 'ARG B_TOKEN'), {}, {}, ['secret-in-arg-or-env@4']],
    ['above a mount on a continuation line', df('FROM a', 'RUN --mount=type=secret,id=a \\', '  # secbuild-ignore secret-id-missing', '  --mount=type=secret,id=b true'), {}, { secrets: none }, ['secret-id-missing@2']],
    ['above the RUN, for a mount on a continuation line', df('FROM a', '# secbuild-ignore secret-id-missing', 'RUN true \\', '  --mount=type=secret,id=b'), {}, { secrets: none }, []],
    ['findings without a line: above the first instruction', df('# syntax=docker/dockerfile:1', '# secbuild-ignore credential-file-in-context secret-id-unused', 'FROM a', 'RUN true'), { '.env': 'x' }, { secrets: ids('spare') }, []],
    ['a silenced COPY does not turn into a context warning', df('FROM a', '# secbuild-ignore credential-file-copied', 'COPY . .'), { '.env': 'x' }, {}, []],
  ])('%s', async (_name, dockerfile, files, extra, want) => {
    expect(await run(dockerfile, files, extra)).toEqual(want);
  });

  test('an unknown rule name is a note, and silences nothing', async () => {
    const { opts } = context(df('FROM a', '# secbuild-ignore secret-in-arg-or-env-typo', 'ARG GITHUB_TOKEN', '# secbuild-ignore', 'RUN true'));
    const { findings, notes } = await checkDockerfile(opts);
    expect(findings.map((f) => f.rule)).toEqual(['secret-in-arg-or-env']);
    expect(notes).toEqual([
      expect.stringMatching(/Dockerfile:2: secbuild-ignore names unknown rule "secret-in-arg-or-env-typo"; it silences only the rules it names: secret-id-missing, /),
      expect.stringMatching(/Dockerfile:4: secbuild-ignore names no rule;/),
    ]);
  });
});

/**
 * BuildKit's COPY follows a symlink that is named as a source, or that a glob
 * matches, or that a source path goes through (the Dockerfile frontend's
 * FollowSymlinks; tonistiigi/fsutil copy.go rootPath → continuity fs.RootPath,
 * resolved inside the context: an absolute target starts at the context root,
 * `..` stops there), and copies a symlink inside a copied directory as a link.
 * Checked against the daemon by hand: `COPY config.txt /c/` with
 * config.txt -> .npmrc puts the .npmrc bytes at /c/config.txt.
 */
describe('credential-file-copied through symlinks, as BuildKit follows them', () => {
  /** `links`: path → link target, made after the files. */
  async function linked(dockerfile: string, files: Record<string, string>, links: Record<string, string>, extra: Partial<CheckOptions> = {}): Promise<string[]> {
    const { dir, opts } = context(dockerfile, files);
    for (const [path, target] of Object.entries(links)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      symlinkSync(target, join(dir, path));
    }
    const { findings } = await checkDockerfile({ ...opts, ...extra });
    return findings.map((f) => `${f.rule}@${f.line ?? f.file}`);
  }

  test.each<[string, string, Record<string, string>, Record<string, string>, string[]]>([
    ['a named source that is a symlink to .npmrc', df('FROM a', 'COPY config.txt /app/'), { '.npmrc': 'x' }, { 'config.txt': '.npmrc' }, ['credential-file-copied@2']],
    ['the same as ADD, in a subdirectory, target relative to it', df('FROM a', 'ADD conf/settings /app/'), { 'home/.netrc': 'x' }, { 'conf/settings': '../home/.netrc' }, ['credential-file-copied@2']],
    ['a glob that matches the symlink', df('FROM a', 'COPY conf*.txt /app/'), { '.npmrc': 'x' }, { 'config.txt': '.npmrc' }, ['credential-file-copied@2']],
    ['a named source that is a symlink to a directory holding one', df('FROM a', 'COPY cfg /app/'), { 'home/.netrc': 'x' }, { cfg: 'home' }, ['credential-file-copied@2']],
    ['a source path through a symlinked directory, then a glob', df('FROM a', 'COPY cfg/*.txt /app/'), { 'real/a.txt': 'x', '.pypirc': 'x' }, { cfg: 'real', 'real/b.txt': '../.pypirc' }, ['credential-file-copied@2']],
    ['an absolute target starts at the context root', df('FROM a', 'COPY abs.txt /app/'), { '.npmrc': 'x' }, { 'abs.txt': '/.npmrc' }, ['credential-file-copied@2']],
    ['.. in a target stops at the context root', df('FROM a', 'COPY up.txt /app/'), { '.npmrc': 'x' }, { 'up.txt': '../../../../.npmrc' }, ['credential-file-copied@2']],
    ['a chain of symlinks', df('FROM a', 'COPY one /app/'), { 'id_rsa': 'x' }, { one: 'two', two: 'three', three: 'id_rsa' }, ['credential-file-copied@2']],
    ['a symlink inside a copied directory is copied as a link: not followed', df('FROM a', 'COPY app /app/'), { 'app/main.js': 'x', '.npmrc': 'x' }, { 'app/config.txt': '../.npmrc' }, ['credential-file-in-context@.npmrc']],
    ['COPY . . copies the link as a link (the target itself is what it reports)', df('FROM a', 'COPY . .'), { '.npmrc': 'x' }, { 'config.txt': '.npmrc' }, ['credential-file-copied@2']],
    ['a target the .dockerignore excludes is not sent (the COPY fails): no finding', df('FROM a', 'COPY config.txt /app/'), { '.npmrc': 'x', '.dockerignore': '.npmrc\n' }, { 'config.txt': '.npmrc' }, []],
    ['a symlink to an ordinary file', df('FROM a', 'COPY config.txt /app/'), { 'settings.ini': 'x', '.npmrc': 'x' }, { 'config.txt': 'settings.ini' }, ['credential-file-in-context@.npmrc']],
    ['a symlink loop is not followed for ever', df('FROM a', 'COPY a /app/'), {}, { a: 'b', b: 'a' }, []],
    ['a dangling symlink', df('FROM a', 'COPY gone /app/'), {}, { gone: 'nowhere/.npmrc' }, []],
  ])('%s', async (_name, dockerfile, files, links, want) => {
    expect(await linked(dockerfile, files, links)).toEqual(want);
  });

  test('the finding names the link and the credential file it points to, with the fix for that kind', async () => {
    const { dir, opts } = context(df('FROM a', 'COPY config.txt /app/'), { '.npmrc': 'x' });
    symlinkSync('.npmrc', join(dir, 'config.txt'));
    const { findings } = await checkDockerfile(opts);
    expect(findings).toEqual([
      {
        rule: 'credential-file-copied',
        level: 'error',
        file: 'Dockerfile',
        line: 2,
        message: 'COPY copies "config.txt", a symlink to the credential file ".npmrc", into the image, where anyone who can pull the image can read it.',
        fix: 'Mount it only where it is used: RUN --mount=type=secret,id=npmrc,target=/root/.npmrc … with secbuild --npmrc registry=URL,token=REF.',
      },
    ]);
    expect(await preflightLeaks(opts, dir)).toEqual([
      `${join(dir, 'Dockerfile')}:2: COPY copies "config.txt", a symlink to the credential file ".npmrc", into the image, where anyone who can pull the image can read it. Mount it only where it is used: RUN --mount=type=secret,id=npmrc,target=/root/.npmrc … with secbuild --npmrc registry=URL,token=REF.`,
    ]);
  });
});

describe('findings: shape and wording', () => {
  test('file, line, rule, level, one-line message and fix; paths relative to cwd', async () => {
    const { opts } = context(df('FROM a', 'COPY . .'), { 'app/.npmrc': 'x' });
    const { findings } = await checkDockerfile(opts);
    expect(findings).toEqual([
      {
        rule: 'credential-file-copied',
        level: 'error',
        file: 'Dockerfile',
        line: 2,
        message: 'COPY . brings the credential file "app/.npmrc" from the build context into the image, where anyone who can pull the image can read it.',
        fix: 'Exclude it in .dockerignore (for example "**/.npmrc") or copy only what the image needs, and mount credentials as secrets.',
      },
    ]);
    for (const f of findings) expect(f.message + f.fix).not.toMatch(/\n/);
  });

  test('no value ever: ARG defaults, ENV values and file contents stay out of findings', async () => {
    const VALUE = 'do-not-print-7f3a';
    const { opts } = context(df('FROM a', `ARG GITHUB_TOKEN=${VALUE}`, `ENV API_KEY=${VALUE}`, 'COPY . .', `RUN --mount=type=secret,id=${'x'} cp /run/secrets/x /x`), { '.env': VALUE, '.npmrc': VALUE });
    const result = await checkDockerfile({ ...opts, secrets: ids('gh') });
    expect(result.findings.length).toBeGreaterThan(3);
    expect(JSON.stringify(result)).not.toContain(VALUE);
  });

  test('without cwd, paths are as given (the build prints absolute paths)', async () => {
    const { dir, opts } = context(df('FROM a', 'RUN true'), { '.env': 'x' });
    const { findings } = await checkDockerfile({ ...opts, cwd: undefined });
    expect(findings.map((f) => f.file)).toEqual([join(dir, '.env')]);
  });
});

describe('preflightLeaks: the error-level rules a build adds to its preflight', () => {
  test('one line per error, FILE:LINE: what. fix.; warnings and secret ids left out', async () => {
    const { dir, opts } = context(df('FROM a', 'ARG GITHUB_TOKEN', 'COPY .npmrc /root/', 'RUN --mount=type=secret,id=nobody cp /run/secrets/nobody /x'), { '.env': 'x' });
    expect(await preflightLeaks(opts, dir)).toEqual([
      `${join(dir, 'Dockerfile')}:3: COPY copies the credential file ".npmrc" into the image, where anyone who can pull the image can read it. Mount it only where it is used: RUN --mount=type=secret,id=npmrc,target=/root/.npmrc … with secbuild --npmrc registry=URL,token=REF.`,
    ]);
  });

  test('no COPY or ADD: nothing to check', async () => {
    const { dir, opts } = context(df('FROM a', 'RUN --mount=type=secret,id=t cp /run/secrets/t /t'), { '.env': 'x' });
    expect(await preflightLeaks(opts, dir)).toEqual([]);
  });
});

describe('splitFormat', () => {
  test.each<[string[], string, string[]]>([
    [['.'], 'text', ['.']],
    [['--format', 'json', '-t', 'x', '.'], 'json', ['-t', 'x', '.']],
    [['--format=text', '.'], 'text', ['.']],
    [['--', '--format', 'json'], 'text', ['--', '--format', 'json']],
  ])('%j', (argv, format, rest) => {
    expect(splitFormat(argv)).toEqual({ format, rest });
  });

  test.each<[string[], RegExp]>([
    [['--format', 'yaml'], /--format must be text or json, got "yaml"/],
    [['--format'], /--format needs a value/],
    [['--format=json', '--format=text'], /given twice/],
  ])('UsageError: %j', (argv, want) => {
    expect(() => splitFormat(argv)).toThrow(want);
  });
});

describe('advice that works on the frontend in use', () => {
  const fixOf = async (dockerfile: string, files: Record<string, string> = {}) => {
    const { opts } = context(dockerfile, files);
    return (await checkDockerfile(opts)).findings.map((f) => f.fix);
  };
  const readForm = 'Pass it as a secret instead: RUN --mount=type=secret,id=GITHUB_TOKEN GITHUB_TOKEN="$(cat /run/secrets/GITHUB_TOKEN)" … with secbuild --secret id=GITHUB_TOKEN,from=env:GITHUB_TOKEN.';
  const envForm = 'Pass it as a secret instead: RUN --mount=type=secret,id=GITHUB_TOKEN,env=GITHUB_TOKEN … with secbuild --secret id=GITHUB_TOKEN,from=env:GITHUB_TOKEN.';
  test.each<[string, string, string]>([
    ['no syntax line: the form every frontend takes', df('FROM a', 'ARG GITHUB_TOKEN'), readForm],
    ['a syntax line older than 1.10', df('# syntax=docker/dockerfile:1.4', 'FROM a', 'ARG GITHUB_TOKEN'), readForm],
    ['another frontend', df('# syntax=example/frontend:2', 'FROM a', 'ARG GITHUB_TOKEN'), readForm],
    ['docker/dockerfile:1.10: env= works', df('# syntax=docker/dockerfile:1.10', 'FROM a', 'ARG GITHUB_TOKEN'), envForm],
    ['docker/dockerfile:1: env= works', df('# syntax=docker/dockerfile:1', 'FROM a', 'ARG GITHUB_TOKEN'), envForm],
  ])('secret-in-arg-or-env, %s', async (_name, dockerfile, fix) => {
    expect(await fixOf(dockerfile)).toEqual([fix]);
  });

  test.each<[string, string, RegExp]>([
    ['no syntax line', df('FROM a', 'COPY .env /app/'), /RUN --mount=type=secret,id=NAME NAME="\$\(cat \/run\/secrets\/NAME\)" …/],
    ['docker/dockerfile:1.10', df('# syntax=docker/dockerfile:1.10', 'FROM a', 'COPY .env /app/'), /RUN --mount=type=secret,id=NAME,env=NAME …/],
  ])('credential-file-copied of .env, %s', async (_name, dockerfile, fix) => {
    expect(await fixOf(dockerfile)).toEqual([expect.stringMatching(fix)]);
  });
});
