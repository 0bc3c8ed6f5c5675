// `secbuild bake` over a fully cached `docker buildx bake` of the same
// targets, for 1 and 10 targets (issue 25): the overhead, in bare node starts.
//
//   import { benchBake } from './bake.mjs'
//   const lines = benchBake({ docker, node, cli, base, env, dir, alternate, table, floor, verdict, throughNode, wrapperFloor, onImage });
//
// One bake file with 10 targets (one Dockerfile, one secret mount each, a tag
// each); the `one` group holds the first. Each target lists
// `id=tok,env=BENCH_TOKEN`: raw bake reads the variable, secbuild serves the
// id from its provider (`--secret id=tok,from=env:BENCH_TOKEN`) instead. The
// four variants — raw and secbuild, 1 and 10 targets — and the floor
// (`node -e 0`) run in the same alternation, the same spawn and the same
// environment (bench.mjs's `alternate` and `floor`). Warm-up runs build and
// cache every target first, so the timed bakes are fully cached. The raw
// bakes also run through a bare node wrapper (bench.mjs's `throughNode`): the
// floor under the ratio.
// Target: (median secbuild - median raw) / median floor <= 1.5, for each count.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BAKE_RATIO = 1.5;
const COUNT = 10;

export function benchBake({ docker, node, cli, base, env, dir, alternate, table, floor, verdict, throughNode, wrapperFloor, onImage }) {
  const names = Array.from({ length: COUNT }, (_, i) => `t${i}`);
  const tags = names.map((n) => `${process.env.BENCH_IMAGE_PREFIX ?? "secbuild-bench-"}bake-${n}`);
  for (const tag of tags) onImage(tag);
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/Dockerfile'), `FROM ${base}\nRUN --mount=type=secret,id=tok,required=true wc -c /run/secrets/tok > /n\n`);
  const targets = names.map((n, i) => `target "${n}" {\n  context = "app"\n  tags    = ["${tags[i]}"]\n  secret  = ["id=tok,env=BENCH_TOKEN"]\n}\n`);
  writeFileSync(join(dir, 'docker-bake.hcl'), `group "one" { targets = ["t0"] }\ngroup "ten" { targets = [${names.map((n) => `"${n}"`).join(', ')}] }\n${targets.join('')}`);

  const bakeArgs = ['--progress=plain'];
  const variant = (name, group, wrapped) => ({
    name,
    cmd: wrapped ? node : docker,
    args: wrapped ? [cli, 'bake', '--secret', 'id=tok,from=env:BENCH_TOKEN', ...bakeArgs, group] : ['buildx', 'bake', ...bakeArgs, group],
    env,
    cwd: dir,
  });
  const raw = { one: variant('buildx bake, 1 target (raw)', 'one', false), ten: variant('buildx bake, 10 targets (raw)', 'ten', false) };
  const viaNode = { one: throughNode(raw.one), ten: throughNode(raw.ten) };
  const samples = alternate([
    raw.one,
    variant('secbuild bake, 1 target', 'one', true),
    viaNode.one,
    raw.ten,
    variant('secbuild bake, 10 targets', 'ten', true),
    viaNode.ten,
    floor(env),
  ]);
  const t = table(samples);
  const bare = t.by['node -e 0'].median;
  const lines = [...t.rows, `  bare node start (the floor, timed in the same rounds): ${bare.toFixed(1)} ms median`];
  for (const [count, label, group] of [[1, '1 target', 'one'], [COUNT, `${COUNT} targets`, 'ten']]) {
    const overhead = t.by[`secbuild bake, ${label}`].median - t.by[raw[group].name].median;
    const ratio = overhead / bare;
    lines.push(`  bake overhead, ${count === 1 ? '1 target' : label}: ${overhead.toFixed(1)} ms (median secbuild bake - median raw bake; output masked, as in CI)`);
    lines.push(...wrapperFloor(t, { raw: raw[group].name, wrapper: viaNode[group].name, ours: `secbuild bake, ${label}`, limit: BAKE_RATIO }));
    lines.push(verdict(`fully cached bake of ${label}, overhead over the raw buildx bake / bare node start`, `${ratio.toFixed(2)} x (${overhead.toFixed(1)} / ${bare.toFixed(1)} ms)`, `<= ${BAKE_RATIO} x`, ratio <= BAKE_RATIO));
  }
  return lines;
}
