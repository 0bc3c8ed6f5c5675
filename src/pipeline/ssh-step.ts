/**
 * The SSH half of a run: after resolution, every `--ssh-key` / secbuild.yml
 * `ssh:` key is checked (src/secrets/sshkey.ts: an OpenSSH or PEM private
 * key, not passphrase-protected) before any agent or docker runs; inside the
 * session, one private ssh-agent per ssh id (src/run/agent.ts) holds them
 * while docker runs, and is stopped whatever happens. Docker gets
 * `--ssh ID=SOCKET`. The agent code (dist/ssh-agent.cjs) is loaded only by a
 * build with ssh keys.
 */
import type { AgentKeys } from '../run/agent.js';
import type { Resolution } from '../secrets/resolve.js';
import type { SecretSpec } from '../secrets/spec.js';
import { isSshSpec } from '../secrets/ssh.js';
import { ResolveError, type SecretFailure } from '../util/errors.js';

export interface SshPlan extends AgentKeys {
  /** Key type and fingerprint per key, for the report and `secbuild secrets`. */
  described: Array<{ source: string; type?: string; fingerprint?: string }>;
}

/**
 * The resolved keys per ssh id, validated and normalised; a value that is not
 * a usable key fails like a secret that does not resolve (exit 3), naming the
 * id and source only. Empty when the build has no ssh keys.
 */
export async function sshKeysOf(specs: readonly SecretSpec[], resolution: Resolution): Promise<SshPlan[]> {
  const ssh = specs.filter(isSshSpec);
  if (ssh.length === 0) return [];
  const { inspectKey } = await import('../secrets/sshkey.js');
  const byId = new Map<string, SshPlan>();
  const failures: SecretFailure[] = [];
  for (const spec of ssh) {
    const secret = resolution.values.find((v) => v.id === spec.id);
    if (!secret) continue; // its failure is in the resolution already
    let info;
    try {
      info = inspectKey(secret.value);
    } catch (err) {
      failures.push({ id: spec.id, source: secret.source, reason: `${(err as Error).message}; give an OpenSSH or PEM private key (ssh-keygen -t ed25519 writes one).` });
      continue;
    }
    if (info.encrypted) {
      failures.push({
        id: spec.id,
        source: secret.source,
        reason: 'the key is passphrase-protected, and secbuild loads only unencrypted keys (it will not put a passphrase into a child or a file); store an unencrypted copy (ssh-keygen -p -N "" -f COPY) in the provider instead, or use a deploy key made for CI.',
      });
      continue;
    }
    const plan = byId.get(spec.ssh) ?? { id: spec.ssh, sources: [], keys: [], described: [] };
    byId.set(spec.ssh, plan);
    (plan.sources as string[]).push(secret.source);
    (plan.keys as Buffer[]).push(info.normalized);
    plan.described.push({ source: secret.source, type: info.type, fingerprint: info.fingerprint });
  }
  if (failures.length > 0) throw new ResolveError(failures);
  return [...byId.values()];
}

/** What --dry-run shows for the agents: the --ssh values a real run passes (sockets in the run directory). */
export async function plannedSshFlags(dir: string, plans: readonly SshPlan[]): Promise<string[]> {
  if (plans.length === 0) return [];
  const { agentSocket } = await import('../run/agent.js');
  return plans.map((p, i) => `${p.id}=${agentSocket(dir, i)}`);
}

/** Runs `fn` with the agents of `plans` started in run directory `dir` (their --ssh values), stopping them after. */
export async function withAgents<T>(dir: string, plans: readonly SshPlan[], fn: (flags: string[]) => Promise<T>): Promise<T> {
  if (plans.length === 0) return fn([]);
  const { startAgents } = await import('../run/agent.js');
  const agents = await startAgents(dir, plans, process.env);
  try {
    return await fn(agents.flags);
  } finally {
    await agents.stop();
  }
}
