import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/util/errors.js';
import { checkSecretIds, type PreflightInput, type SecretMount } from '../../src/check/secret-ids.js';
import { parseDockerfile } from '../../src/dockerfile/model.js';
import { mountEnvErrors, needsDaemon, type Builder } from '../../src/check/mount-env.js';
import { askDocker } from '../../src/pipeline/preflight.js';
import { scrubEnv } from '../../src/run/env.js';

const P = 'Dockerfile';
const df = (...lines: string[]) => lines.join('\n') + '\n';
/** The model's secret mounts and notes: what the build preflight caches (besides ssh mounts). */
const find = async (dockerfile: string, opts: Partial<PreflightInput> = {}) => {
  const { mounts, notes } = await parseDockerfile({ dockerfile, path: P, ...opts });
  return { mounts, notes };
};
/** "id@line" for each mount, in document order. */
const ids = async (dockerfile: string, opts: Partial<PreflightInput> = {}) =>
  (await find(dockerfile, opts)).mounts.map((m) => `${m.id}@${m.line}`);

describe('parseDockerfile: ids, flags and syntax', () => {
  test.each<[string, string, string[]]>([
    ['id= given', df('FROM a', 'RUN --mount=type=secret,id=npm true'), ['npm@2']],
    ['id from target basename', df('FROM a', 'RUN --mount=type=secret,target=/root/.npmrc true'), ['.npmrc@2']],
    ['id from dst alias, trailing slash', df('FROM a', 'RUN --mount=type=secret,dst=/run/x/tok/ true'), ['tok@2']],
    ['source= is the id', df('FROM a', 'RUN --mount=type=secret,source=gh,target=/t true'), ['gh@2']],
    ['src= is the id', df('FROM a', 'RUN --mount=type=secret,src=gh true'), ['gh@2']],
    ['keys and type are case-insensitive', df('from a', 'run --mount=TYPE=Secret,ID=npm true'), ['npm@2']],
    ['several mounts on one RUN', df('FROM a', 'RUN --mount=type=secret,id=a --mount=type=cache,target=/c --mount=type=secret,id=b true'), ['a@2', 'b@2']],
    ['continuation lines, comments, blank lines', df('FROM a', 'RUN --mount=type=secret,id=a \\', '  # note', '', '  --mount=type=secret,id=b \\', '  true'), ['a@2', 'b@5']],
    ['quoted flag with comma and space', df('FROM a', 'RUN --mount="type=secret,\\"target=/run/a,b c\\"" true'), ['a,b c@2']],
    ['heredoc body is not an instruction', df('FROM a', 'RUN --mount=type=secret,id=h <<EOF', 'RUN --mount=type=secret,id=fake true', 'EOF'), ['h@2']],
    ['flags stop at the first word', df('FROM a', 'RUN echo --mount=type=secret,id=no'), []],
    ['bind, cache and tmpfs mounts are not secrets', df('FROM a', 'RUN --mount=type=bind,target=/x --mount=target=/y --mount=type=tmpfs,target=/z true'), []],
    ['env= only, with id', df('FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN true'), ['tok@2']],
  ])('%s', async (_name, dockerfile, want) => {
    expect(await ids(dockerfile)).toEqual(want);
  });

  test('mount fields: stage, required, target, the RUN line', async () => {
    const { mounts } = await find(df('FROM a AS Build', 'RUN --mount=type=secret,id=a,required --mount=type=secret,id=b,required=false,env=B --mount=type=secret,id=c,required=True,dst=/c true'));
    expect(mounts).toEqual<SecretMount[]>([
      { id: 'a', line: 2, stage: 'build', required: true, target: '/run/secrets/a', run: 2 },
      { id: 'b', line: 2, stage: 'build', required: false, target: '', run: 2 },
      { id: 'c', line: 2, stage: 'build', required: true, target: '/c', run: 2 },
    ]);
  });

  test.each<[string, string, RegExp]>([
    ['no id, source or target', df('FROM a', 'RUN --mount=type=secret,env=X true'), /Dockerfile:2: secret mount has no id, source or target/],
    ['--mount without "="', df('FROM a', 'RUN --mount type=secret,id=x true'), /Dockerfile:2: "--mount" needs "="/],
    ['bad CSV', df('FROM a', `RUN --mount='type=secret,id=a"b' true`), /Dockerfile:2: --mount value is not valid CSV/],
    ['source and id together', df('FROM a', 'RUN --mount=type=secret,id=a,source=b true'), /both source= and id=/],
    ['other frontend', df('# syntax=example.com/my/frontend:1', 'FROM a'), /Dockerfile:1: syntax "example.com\/my\/frontend:1" is not docker\/dockerfile/],
  ])('note: %s', async (_name, dockerfile, want) => {
    const { mounts, notes } = await find(dockerfile);
    expect(mounts).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(want)]);
  });

  test.each(['docker/dockerfile:1', 'docker/dockerfile:1.7-labs', 'docker.io/docker/dockerfile@sha256:abc', 'docker/dockerfile-upstream:master'])(
    'no note for # syntax=%s',
    async (ref) => {
      expect((await find(df(`# syntax=${ref}`, 'FROM a'))).notes).toEqual([]);
    },
  );

  test('BUILDKIT_SYNTAX build-arg overrides the directive', async () => {
    const { notes } = await find(df('# syntax=docker/dockerfile:1', 'FROM a'), { buildArgs: { BUILDKIT_SYNTAX: 'other/fe:2' } });
    expect(notes).toEqual([expect.stringMatching(/^Dockerfile \(build-arg BUILDKIT_SYNTAX\): syntax "other\/fe:2"/)]);
  });
});

describe('parseDockerfile: stages the build reaches', () => {
  const multi = df(
    'FROM a AS deps', //                                  1
    'RUN --mount=type=secret,id=deps true', //            2
    'FROM a AS tools', //                                 3
    'RUN --mount=type=secret,id=tools true', //           4
    'FROM a AS unused', //                                5
    'RUN --mount=type=secret,id=unused true', //          6
    'FROM deps AS build', //                              7
    'RUN --mount=type=secret,id=build true', //           8
    'FROM a AS test', //                                  9
    'COPY --from=1 /x /x', //                             10
    'RUN --mount=type=secret,id=test true', //            11
    'FROM a AS assets', //                                12
    'RUN --mount=type=bind,from=TOOLS,target=/t true', // 13
    'FROM a', //                                          14
    'COPY --from=build /app /app', //                     15
    'RUN --mount=type=secret,id=final true', //           16
  );
  test.each<[string, string | undefined, string[]]>([
    ['no target: last stage, COPY --from name, FROM stage', undefined, ['deps@2', 'build@8', 'final@16']],
    ['target selects a stage, case-insensitively', 'BUILD', ['deps@2', 'build@8']],
    ['COPY --from by index', 'test', ['tools@4', 'test@11']],
    ['RUN --mount from= by name', 'assets', ['tools@4']],
    ['unreached stage ignored', 'unused', ['unused@6']],
  ])('%s', async (_name, target, want) => {
    expect(await ids(multi, { target })).toEqual(want);
  });

  test('FROM resolves a stage through a global ARG', async () => {
    const text = df('ARG BASE=deps', 'FROM a AS deps', 'RUN --mount=type=secret,id=d true', 'FROM ${BASE}', 'RUN true');
    expect(await ids(text)).toEqual(['d@3']);
    expect(await ids(text, { buildArgs: { BASE: 'alpine' } })).toEqual([]);
  });

  test('notes from unreached stages are dropped', async () => {
    expect((await find(df('FROM a AS x', 'RUN --mount type=secret,id=x true', 'FROM a'))).notes).toEqual([]);
  });

  test.each<[string, string, RegExp]>([
    ['unknown target', df('FROM a AS deps', 'FROM a AS build'), /^Dockerfile: --target "nope" names no stage; its stages are: deps, build\.$/],
    ['no named stages', df('FROM a'), /no named stages/],
    ['no FROM at all', df('ARG X=1'), /no FROM instruction/],
  ])('UsageError: %s', async (_name, dockerfile, want) => {
    const err = await find(dockerfile, { target: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(want);
  });
});

describe('parseDockerfile: variables in mount options', () => {
  test.each<[string, string, Record<string, string> | undefined, string[]]>([
    ['stage ARG default', df('FROM a', 'ARG ID=npm', 'RUN --mount=type=secret,id=$ID true'), undefined, ['npm@3']],
    ['build-arg overrides the default', df('FROM a', 'ARG ID=npm', 'RUN --mount=type=secret,id=${ID} true'), { ID: 'yarn' }, ['yarn@3']],
    ['global ARG redeclared in the stage', df('ARG ID=npm', 'FROM a', 'ARG ID', 'RUN --mount=type=secret,id=${ID} true'), undefined, ['npm@4']],
    ['global ARG overridden by build-arg', df('ARG ID=npm', 'FROM a', 'ARG ID', 'RUN --mount=type=secret,id=${ID} true'), { ID: 'gh' }, ['gh@4']],
    ['ENV and ARG in the value', df('FROM a', 'ARG P=my', 'ENV ID="${P}-token"', 'RUN --mount=type=secret,id=$ID,target=/x true'), undefined, ['my-token@4']],
    ['inherited from a parent stage', df('FROM a AS base', 'ARG ID=npm', 'FROM base', 'RUN --mount=type=secret,id=$ID true'), undefined, ['npm@4']],
    ['${VAR:-default} for a declared, unset ARG', df('FROM a', 'ARG ID', 'RUN --mount=type=secret,id=${ID:-npm} true'), undefined, ['npm@3']],
    ['expanded target', df('FROM a', 'ARG D=/run/x', 'RUN --mount=type=secret,target=$D/tok true'), undefined, ['tok@3']],
    ['build-arg without an ARG is not in scope', df('ARG ID=npm', 'FROM a', 'RUN --mount=type=secret,id=${ID},target=/t/f true'), undefined, []],
  ])('%s', async (_name, dockerfile, buildArgs, want) => {
    expect(await ids(dockerfile, { buildArgs })).toEqual(want);
  });

  test.each<[string, string, string]>([
    ['undeclared variable', df('FROM a', 'RUN --mount=type=secret,id=${X} true'), 'Dockerfile:2: secret mount id "${X}" uses a variable secbuild cannot expand; not checked'],
    ['global ARG not redeclared', df('ARG X=npm', 'FROM a', 'RUN --mount=type=secret,id=$X true'), 'Dockerfile:3: secret mount id "$X" uses a variable secbuild cannot expand; not checked'],
    ['declared ARG without a value', df('FROM a', 'ARG X', 'RUN --mount=type=secret,id=$X true'), 'Dockerfile:3: secret mount id "$X" uses a variable secbuild cannot expand; not checked'],
    ['variable in target', df('FROM a', 'RUN --mount=type=secret,target=/r/$T true'), 'Dockerfile:2: secret mount id "/r/$T" uses a variable secbuild cannot expand; not checked'],
    ['variable in type', df('FROM a', 'RUN --mount=type=$T,id=x true'), 'Dockerfile:2: mount type "$T" uses a variable secbuild cannot expand; not checked'],
  ])('note: %s', async (_name, dockerfile, note) => {
    expect(await find(dockerfile)).toEqual({ mounts: [], notes: [note] });
  });
});

describe('checkSecretIds', () => {
  const m = (id: string, line: number, required = false): SecretMount => ({ id, line, stage: '0', required, target: `/run/secrets/${id}` });
  const missing = (id: string, line: number) =>
    `${P}:${line}: RUN mounts secret "${id}" but no secret with that id is provided; BuildKit would mount nothing and go on. Add --secret id=${id},from=REF (or declare it in secbuild.yml).`;
  test.each<[string, SecretMount[], string[], string[], string | undefined, { level: string; message: string }[]]>([
    ['all provided', [m('npm', 3)], ['npm'], [], undefined, []],
    ['missing id', [m('npm', 7)], [], [], undefined, [{ level: 'error', message: missing('npm', 7) }]],
    ['one finding per line', [m('npm', 3), m('npm', 3), m('npm', 9)], [], [], undefined, [
      { level: 'error', message: missing('npm', 3) },
      { level: 'error', message: missing('npm', 9) },
    ]],
    ['required=true is named', [m('gh', 4, true)], [], [], undefined, [{
      level: 'error',
      message: `${P}:4: RUN mounts secret "gh" but no secret with that id is provided; the mount has required=true, so BuildKit would stop the build. Add --secret id=gh,from=REF (or declare it in secbuild.yml).`,
    }]],
    ['optional and absent is fine', [m('gh', 4)], [], ['gh'], undefined, []],
    ['optional and absent but required=true', [m('gh', 4, true)], [], ['gh'], undefined, [{ level: 'error', message: expect.stringContaining('declared optional and absent, but the mount has required=true') as string }]],
    ['provided but not mounted', [m('npm', 3)], ['npm', 'x', 'y'], [], 'app', [
      { level: 'warning', message: 'secret "x" is provided but no RUN in the stages built for target "app" mounts it' },
      { level: 'warning', message: 'secret "y" is provided but no RUN in the stages built for target "app" mounts it' },
    ]],
    ['provided, no mounts, no target', [], ['x'], [], undefined, [{ level: 'warning', message: 'secret "x" is provided but no RUN in the stages this build reaches mounts it' }]],
  ])('%s', (_name, mounts, provided, optional, target, want) => {
    expect(checkSecretIds(mounts, P, new Set(provided), new Set(optional), target)).toEqual(want);
  });
});

describe('mountEnvErrors: env= on a mount against the frontend that parses it', () => {
  const envRun = df('FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make');
  const fixSyntax = 'Add "# syntax=docker/dockerfile:1.10" as the first line (docker pulls that frontend from Docker Hub), or drop env=TOKEN and read the file: TOKEN="$(cat /run/secrets/tok)".';
  const fixRead = 'Drop env=TOKEN and read the file: TOKEN="$(cat /run/secrets/tok)".';
  test.each<[string, string, Builder, string[]]>([
    ['daemon 20.10 (BuildKit 0.8)', envRun, { engine: 'docker', version: '20.10.24+dfsg1' }, [`Dockerfile:2: RUN --mount … env=TOKEN needs the Dockerfile frontend 1.10 or later; without a "# syntax=" line docker engine 20.10.24+dfsg1's own frontend parses it, and engines before 27.3 refuse the env key ("unexpected key 'env'"). ${fixSyntax}`]],
    ['daemon 26.1 (BuildKit 0.13)', envRun, { engine: 'docker', version: '26.1.5+dfsg1' }, [expect.stringContaining("docker engine 26.1.5+dfsg1's own frontend")]],
    ['daemon 27.2', envRun, { engine: 'docker', version: '27.2.1' }, [expect.stringContaining('Dockerfile:2: ')]],
    ['daemon 27.3 (BuildKit 0.16, frontend 1.10)', envRun, { engine: 'docker', version: '27.3.0' }, []],
    ['daemon 28.2', envRun, { engine: 'docker', version: '28.2.2' }, []],
    ['daemon unknown: assumed older', envRun, { engine: 'docker', unknown: 'the daemon did not answer "docker version"' }, [`Dockerfile:2: RUN --mount … env=TOKEN needs the Dockerfile frontend 1.10 or later; without a "# syntax=" line the builder's own frontend parses it, and secbuild cannot tell its version (the daemon did not answer "docker version"). ${fixSyntax}`]],
    ['syntax 1.10 on an old daemon', df('# syntax=docker/dockerfile:1.10', 'FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make'), { engine: 'docker', version: '20.10.24' }, []],
    ['syntax :1 with a daemon that did not answer', df('# syntax=docker/dockerfile:1', 'FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make'), { engine: 'docker', unknown: 'x' }, []],
    ['an older syntax line', df('# syntax=docker/dockerfile:1.4', 'FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make'), { engine: 'docker', version: '28.2.2' }, [`Dockerfile:3: RUN --mount … env=TOKEN needs the Dockerfile frontend 1.10 or later; the syntax line (Dockerfile:1) asks for docker/dockerfile:1.4, which refuses the env key. Change it to docker/dockerfile:1.10 or later, or drop env=TOKEN and read the file: TOKEN="$(cat /run/secrets/tok)".`]],
    ['another frontend: not judged', df('# syntax=example/frontend:2', 'FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make'), { engine: 'docker', version: '20.10.24' }, []],
    ['podman: buildah refuses it whatever the syntax line', df('# syntax=docker/dockerfile:1.10', 'FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN make'), { engine: 'podman' }, [`Dockerfile:3: RUN --mount … env=TOKEN needs the Dockerfile frontend 1.10 or later; podman builds with buildah, which refuses the env key and reads no "# syntax=" line. ${fixRead}`]],
    ['target= is the file to read', df('FROM a', 'RUN --mount=type=secret,id=tok,target=/root/t,env=T make'), { engine: 'docker', version: '26.1.5' }, [expect.stringContaining('or drop env=T and read the file: T="$(cat /root/t)".')]],
    ['one line per mount', df('FROM a', 'RUN --mount=type=secret,id=a,env=A --mount=type=secret,id=b,env=B true'), { engine: 'docker', version: '26.1.5' }, [expect.stringMatching(/^Dockerfile:2: .*env=A/), expect.stringMatching(/^Dockerfile:2: .*env=B/)]],
    ['no env= mount: nothing', df('FROM a', 'RUN --mount=type=secret,id=tok make'), { engine: 'docker', version: '20.10.24' }, []],
  ])('%s', async (_name, dockerfile, builder, want) => {
    const model = await parseDockerfile({ dockerfile, path: P });
    expect(mountEnvErrors(model, P, builder)).toEqual(want);
  });

  test.each<[string, string, boolean]>([
    ['no env= mount', df('FROM a', 'RUN --mount=type=secret,id=tok make'), false],
    ['env= without a syntax line', df('FROM a', 'RUN --mount=type=secret,id=tok,env=T make'), true],
    ['env= with a syntax line', df('# syntax=docker/dockerfile:1.4', 'FROM a', 'RUN --mount=type=secret,id=tok,env=T make'), false],
  ])('the daemon is asked only when its frontend decides: %s', async (_name, dockerfile, asks) => {
    expect(needsDaemon(await parseDockerfile({ dockerfile, path: P }))).toBe(asks);
  });
});

describe('askDocker: which builder parses a Dockerfile without a syntax line', () => {
  const noDocker = '/nonexistent/secbuild-test-docker';
  test.each<[string, string[], Record<string, string>, Builder]>([
    ['--builder X: its BuildKit is not asked', ['--builder', 'ci', '.'], {}, { engine: 'docker', unknown: 'the build uses buildx builder "ci", whose BuildKit secbuild does not ask' }],
    ['--builder=X', ['--builder=ci', '.'], {}, { engine: 'docker', unknown: 'the build uses buildx builder "ci", whose BuildKit secbuild does not ask' }],
    ['BUILDX_BUILDER', ['.'], { BUILDX_BUILDER: 'remote' }, { engine: 'docker', unknown: 'the build uses buildx builder "remote", whose BuildKit secbuild does not ask' }],
    ['"default" is the daemon: asked', ['--builder', 'default', '.'], {}, { engine: 'docker', unknown: 'the daemon did not answer "docker version"' }],
    ['no builder named: the daemon is asked', ['.'], {}, { engine: 'docker', unknown: 'the daemon did not answer "docker version"' }],
  ])('%s', async (_name, dockerArgs, env, want) => {
    expect(await askDocker(noDocker, dockerArgs, scrubEnv({ PATH: '/usr/bin', ...env }, new Set()))).toEqual(want);
  });
});
