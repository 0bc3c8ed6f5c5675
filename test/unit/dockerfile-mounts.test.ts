import { describe, expect, test } from 'vitest';
import { parseDockerfile, type DockerfileInput, type SshMount } from '../../src/dockerfile/model.js';

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
