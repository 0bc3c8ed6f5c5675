import { describe, expect, test } from 'vitest';
import { parseDockerfile, type DockerfileInput, type SshMount } from '../../src/dockerfile/model.js';
import { mountEnvBySyntax } from '../../src/dockerfile/frontend.js';

const P = 'Dockerfile';
const df = (...lines: string[]) => lines.join('\n') + '\n';
const model = (dockerfile: string, opts: Partial<DockerfileInput> = {}) => parseDockerfile({ dockerfile, path: P, ...opts });
/** "id@line" for each ssh mount ("!" after the id when required). */
const ssh = async (dockerfile: string, opts: Partial<DockerfileInput> = {}) =>
  (await model(dockerfile, opts)).sshMounts.map((m) => `${m.id}${m.required ? '!' : ''}@${m.line}`);

describe('ssh mounts', () => {
  test.each<[string, string, Record<string, string> | undefined, string[]]>([
    ['no id: "default"', df('FROM a', 'RUN --mount=type=ssh git clone x'), undefined, ['default@2']],
    ['empty id: "default"', df('FROM a', 'RUN --mount=type=ssh,id= true'), undefined, ['default@2']],
    ['explicit id', df('FROM a', 'RUN --mount=type=ssh,id=github true'), undefined, ['github@2']],
    ['type and keys case-insensitive', df('FROM a', 'RUN --mount=TYPE=SSH,ID=gh true'), undefined, ['gh@2']],
    ['required alone', df('FROM a', 'RUN --mount=type=ssh,required true'), undefined, ['default!@2']],
    ['required=true', df('FROM a', 'RUN --mount=type=ssh,id=gh,required=true true'), undefined, ['gh!@2']],
    ['required=false', df('FROM a', 'RUN --mount=type=ssh,id=gh,required=false true'), undefined, ['gh@2']],
    ['required from an ARG', df('FROM a', 'ARG R=1', 'RUN --mount=type=ssh,required=$R true'), undefined, ['default!@3']],
    ['id from a stage ARG', df('FROM a', 'ARG KEY=deploy', 'RUN --mount=type=ssh,id=$KEY true'), undefined, ['deploy@3']],
    ['id from a build-arg', df('FROM a', 'ARG KEY=deploy', 'RUN --mount=type=ssh,id=${KEY} true'), { KEY: 'ci' }, ['ci@3']],
    ['id from ENV', df('FROM a', 'ENV KEY=env-key', 'RUN --mount=type=ssh,id=$KEY true'), undefined, ['env-key@3']],
    ['several, beside a secret, on continuation lines', df('FROM a', 'RUN --mount=type=ssh \\', '  --mount=type=secret,id=s \\', '  --mount=type=ssh,id=b true'), undefined, ['default@2', 'b@4']],
    ['unreached stage not listed', df('FROM a AS other', 'RUN --mount=type=ssh,id=other true', 'FROM a', 'RUN --mount=type=ssh true'), undefined, ['default@4']],
    ['reached through COPY --from', df('FROM a AS deps', 'RUN --mount=type=ssh,id=deps true', 'FROM a', 'COPY --from=deps /x /x'), undefined, ['deps@2']],
    ['not a flag after the command', df('FROM a', 'RUN echo --mount=type=ssh'), undefined, []],
  ])('%s', async (_name, dockerfile, buildArgs, want) => {
    expect(await ssh(dockerfile, { buildArgs })).toEqual(want);
  });

  test('fields: id, line, stage, required; no secret mount', async () => {
    const m = await model(df('FROM a AS Fetch', 'RUN --mount=type=ssh,id=gh,required=true,target=/agent true'));
    expect(m.sshMounts).toEqual<SshMount[]>([{ id: 'gh', line: 2, stage: 'fetch', required: true }]);
    expect(m.mounts).toEqual([]);
  });

  test('--target selects the stages', async () => {
    const text = df('FROM a AS one', 'RUN --mount=type=ssh,id=one true', 'FROM a AS two', 'RUN --mount=type=ssh,id=two true');
    expect(await ssh(text, { target: 'one' })).toEqual(['one@2']);
  });

  test.each<[string, string, string]>([
    ['variable it cannot expand', df('FROM a', 'RUN --mount=type=ssh,id=$NOPE true'), 'Dockerfile:2: ssh mount id "$NOPE" uses a variable secbuild cannot expand; not checked'],
    ['source= is rejected by BuildKit', df('FROM a', 'RUN --mount=type=ssh,source=x true'), 'Dockerfile:2: ssh mount sets source=; BuildKit rejects it ("ssh does not support source"), so it was not checked'],
  ])('note: %s', async (_name, dockerfile, note) => {
    const m = await model(dockerfile);
    expect([m.sshMounts, m.notes]).toEqual([[], [note]]);
  });
});

describe('mount ids through ARG and ENV', () => {
  test.each<[string, string, Record<string, string> | undefined, string[]]>([
    ['secret id from ARG', df('FROM a', 'ARG ID=npm', 'RUN --mount=type=secret,id=$ID true'), undefined, ['secret npm@3']],
    ['secret id from ENV built on ARG', df('FROM a', 'ARG P=gh', 'ENV ID=${P}_token', 'RUN --mount=type=secret,id=$ID true'), undefined, ['secret gh_token@4']],
    ['secret and ssh ids from one build-arg', df('FROM a', 'ARG N=x', 'RUN --mount=type=secret,id=s-$N --mount=type=ssh,id=k-$N true'), { N: 'prod' }, ['secret s-prod@3', 'ssh k-prod@3']],
    ['ARG in a parent stage', df('FROM a AS base', 'ARG K=deploy', 'FROM base', 'RUN --mount=type=ssh,id=$K --mount=type=secret,id=$K true'), undefined, ['secret deploy@4', 'ssh deploy@4']],
    ['${VAR:-default} for an unset ARG', df('FROM a', 'ARG K', 'RUN --mount=type=ssh,id=${K:-fallback} true'), undefined, ['ssh fallback@3']],
    ['${VAR:+alt} for a set ARG', df('FROM a', 'ARG K=1', 'RUN --mount=type=secret,id=${K:+on} true'), undefined, ['secret on@3']],
    ['ARG declared after the RUN is not in scope', df('FROM a', 'RUN --mount=type=ssh,id=$K true', 'ARG K=late'), undefined, []],
    ['type from an ARG', df('FROM a', 'ARG T=ssh', 'RUN --mount=type=$T,id=k true'), undefined, ['ssh k@3']],
  ])('%s', async (_name, dockerfile, buildArgs, want) => {
    const m = await model(dockerfile, { buildArgs });
    const all = [...m.mounts.map((x) => ({ ...x, kind: 'secret' })), ...m.sshMounts.map((x) => ({ ...x, kind: 'ssh' }))];
    expect(all.map((x) => `${x.kind} ${x.id}@${x.line}`).sort()).toEqual(want);
  });
});

describe('env= on a mount (Dockerfile frontend 1.10 and later)', () => {
  test.each<[string, string, string[]]>([
    ['secret with env= and id: the file it would read', df('FROM a', 'RUN --mount=type=secret,id=tok,env=TOKEN true'), ['TOKEN@2 /run/secrets/tok']],
    ['target= is the file', df('FROM a', 'RUN --mount=type=secret,id=tok,env=T,target=/root/tok true'), ['T@2 /root/tok']],
    ['id from a path: its base name', df('FROM a', 'RUN --mount=type=secret,id=a/b,env=T true'), ['T@2 /run/secrets/b']],
    ['key case-insensitive, continuation line', df('FROM a', 'RUN --mount=type=cache,target=/c \\', '  --mount=type=secret,id=x,ENV=X true'), ['X@3 /run/secrets/x']],
    ['unreached stages count (BuildKit 0.8 parses every stage)', df('FROM a AS other', 'RUN --mount=type=secret,id=o,env=O true', 'FROM a', 'RUN true'), ['O@2 /run/secrets/o']],
    ['env= on another mount type', df('FROM a', 'RUN --mount=type=cache,target=/c,env=C true'), ['C@2 ']],
    ['no env=: none', df('FROM a', 'RUN --mount=type=secret,id=tok true'), []],
    ['env in the command is not a mount key', df('FROM a', 'RUN --mount=type=secret,id=tok env=X true'), []],
  ])('%s', async (_name, dockerfile, want) => {
    expect((await model(dockerfile)).envMounts.map((m) => `${m.env}@${m.line} ${m.file}`)).toEqual(want);
  });
});

describe('the frontend a syntax line names', () => {
  test.each<[string, string, Record<string, string> | undefined, boolean | undefined]>([
    ['no syntax line: the builder decides', df('FROM a'), undefined, undefined],
    ['docker/dockerfile:1.10', df('# syntax=docker/dockerfile:1.10', 'FROM a'), undefined, true],
    ['docker/dockerfile:1.10.0-rc1', df('# syntax=docker/dockerfile:1.10.0-rc1', 'FROM a'), undefined, true],
    ['docker/dockerfile:1.17-labs', df('# syntax=docker/dockerfile:1.17-labs', 'FROM a'), undefined, true],
    ['docker/dockerfile:1 (the newest 1.x)', df('# syntax=docker/dockerfile:1', 'FROM a'), undefined, true],
    ['docker/dockerfile:1-labs', df('# syntax=docker/dockerfile:1-labs', 'FROM a'), undefined, true],
    ['docker/dockerfile (latest)', df('#syntax=docker/dockerfile', 'FROM a'), undefined, true],
    ['docker.io/docker/dockerfile:latest', df('# syntax=docker.io/docker/dockerfile:latest', 'FROM a'), undefined, true],
    ['docker/dockerfile:labs', df('# syntax=docker/dockerfile:labs', 'FROM a'), undefined, true],
    ['docker/dockerfile-upstream:master', df('# syntax=docker/dockerfile-upstream:master', 'FROM a'), undefined, true],
    ['tag and digest: the tag tells', df('# syntax=docker/dockerfile:1.12@sha256:' + 'a'.repeat(64), 'FROM a'), undefined, true],
    ['docker/dockerfile:1.9', df('# syntax=docker/dockerfile:1.9', 'FROM a'), undefined, false],
    ['docker/dockerfile:1.4.3', df('# syntax=docker/dockerfile:1.4.3', 'FROM a'), undefined, false],
    ['docker/dockerfile:1.2-experimental', df('# syntax=docker/dockerfile:1.2-experimental', 'FROM a'), undefined, false],
    ['docker/dockerfile:0.9.0', df('# syntax=docker/dockerfile:0.9.0', 'FROM a'), undefined, false],
    ['a digest only: cannot tell', df('# syntax=docker/dockerfile@sha256:' + 'a'.repeat(64), 'FROM a'), undefined, undefined],
    ['another frontend: cannot tell', df('# syntax=example/frontend:2', 'FROM a'), undefined, undefined],
    ['BUILDKIT_SYNTAX build-arg wins over the line', df('# syntax=docker/dockerfile:1.4', 'FROM a'), { BUILDKIT_SYNTAX: 'docker/dockerfile:1.10' }, true],
  ])('%s', async (_name, dockerfile, buildArgs, want) => {
    expect(mountEnvBySyntax((await model(dockerfile, { buildArgs })).frontend)).toBe(want);
  });

  test('where it was named', async () => {
    expect((await model(df('# syntax=docker/dockerfile:1.9', 'FROM a'))).frontend).toEqual({ ref: 'docker/dockerfile:1.9', where: 'Dockerfile:1', version: [1, 9] });
    expect((await model(df('FROM a'), { buildArgs: { BUILDKIT_SYNTAX: 'docker/dockerfile:1' } })).frontend.where).toBe('Dockerfile (build-arg BUILDKIT_SYNTAX)');
    expect((await model(df('FROM a'))).frontend).toEqual({ version: null });
  });
});
