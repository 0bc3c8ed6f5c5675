/**
 * `secbuild secrets`: every secret a build would provide — id, source,
 * whether it resolves, byte length, cache policy. Never a value. Exit 3 when any fails.
 */
import { ResolveError } from '../../util/errors.js';
import type { SecretFlags } from '../../args/own.js';
import { planSpecs } from '../../secrets/plan.js';
import { tooShortToMask } from '../../secrets/forms.js';
import { inputUses } from '../../secrets/render.js';
import { formatPolicy } from '../../secrets/cache-policy.js';
import { resolveMasked } from '../../pipeline/resolve-step.js';
import { specRefs } from '../../secrets/resolve.js';
import { masked } from '../../util/log.js';
import { isSshSpec } from '../../secrets/ssh.js';
import { storeReadiness } from '../../../providers/index.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The note of a secret that is not handed to docker: what it is an input of. */
const notMounted = (uses: readonly string[] | undefined): string =>
  uses?.length ? `input of ${uses.length === 1 ? uses[0] : `${uses.slice(0, -1).join(', ')} and ${uses.at(-1)}`}, not mounted` : 'not mounted';

export async function secretsCommand(flags: SecretFlags): Promise<void> {
  const plan = await planSpecs(flags, process.env, process.cwd());
  if (plan.specs.length === 0) {
    process.stdout.write('no secrets declared (use --secret, --netrc, --npmrc, --ssh-key or secbuild.yml)\n');
    return;
  }
  const res = await resolveMasked(plan.specs, { env: plan.env, childEnv: plan.childEnv }, { keepGoing: true });
  const rows = [['ID', 'SOURCE', 'STATUS', 'BYTES', 'CACHE', 'NOTE']];
  const uses = inputUses(plan.specs);
  const sshKey = plan.specs.some(isSshSpec) ? (await import('../../secrets/sshkey.js')).inspectKey : undefined;
  for (const spec of plan.specs) {
    const ok = res.secrets.find((s) => s.id === spec.id) ?? res.values.find((s) => s.id === spec.id);
    const skipped = res.skipped.find((s) => s.id === spec.id);
    const failed = res.failures.find((f) => f.id === spec.id);
    const source = ok?.source ?? skipped?.source ?? failed?.source ?? spec.kind;
    const notes = [spec.mount || isSshSpec(spec) ? '' : notMounted(uses.get(spec.id)), ok && spec.kind === 'ref' && tooShortToMask(ok.value) ? 'shorter than 4 bytes: not masked in output' : ''];
    const note = notes.filter(Boolean).join('; ');
    const cache = formatPolicy(spec.cache);
    if (ok && isSshSpec(spec) && sshKey) {
      // An ssh key: its type and fingerprint (of the public half), or why it is not a usable key.
      let said: string;
      try {
        const key = sshKey(ok.value);
        said = key.encrypted ? 'passphrase-protected: refused (secbuild loads only unencrypted keys)' : `ssh key for ssh id "${spec.ssh}": ${key.type} ${key.fingerprint}`;
        if (key.encrypted) res.failures.push({ id: spec.id, source, reason: said });
      } catch (err) {
        said = `not an SSH private key: ${(err as Error).message}`;
        res.failures.push({ id: spec.id, source, reason: said });
      }
      rows.push([spec.id, source, res.failures.some((f) => f.id === spec.id) ? 'FAILED' : 'ok', String(ok.bytes), cache, said]);
      continue;
    }
    if (failed) rows.push([spec.id, source, 'FAILED', '-', cache, failed.reason]);
    else if (skipped) rows.push([spec.id, source, 'absent (optional)', '-', cache, skipped.reason]);
    else if (ok) rows.push([spec.id, source, 'ok', String(ok.bytes), cache, note]);
  }
  process.stdout.write(masked(table(rows)));
  // Each secret store the specs read from (from=, .netrc/.npmrc fields, identity=): its readiness (CLI, store or credentials), no value read.
  for (const r of await storeReadiness(plan.specs.flatMap(specRefs), { env: plan.env, childEnv: plan.childEnv }, false)) {
    process.stdout.write(masked(`store ${r.store}: ${r.ok ? 'ready' : 'not ready'}: ${r.text}\n`));
  }
  if (plan.configPath) process.stdout.write(`config: ${plan.configPath}\n`);
  if (res.failures.length > 0) throw new ResolveError(res.failures, { reported: true });
}
