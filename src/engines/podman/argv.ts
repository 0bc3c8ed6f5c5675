/**
 * `podman build --secret id=ID,src=PATH,type=file … <user's args verbatim>`.
 *
 * buildah 1.28 (pkg/parse/parse.go `Secrets`) splits the value on every
 * comma — no CSV quoting as in buildx — and, without `type=`, takes the
 * secret from an environment variable named like the id when one exists
 * (then it reads the variable named by src: an empty secret). So the type is
 * always given, and an id or a path with a comma or a double quote is
 * refused instead of being quoted.
 */
import type { SecretFile } from '../../run/rundir.js';
import { UsageError } from '../../util/errors.js';

export function podmanSecretFlags(files: readonly SecretFile[]): string[] {
  return files.flatMap((f) => {
    for (const [what, v] of [['secret id', f.id], ['secret file path', f.path]] as const) {
      if (/[,"\n]/.test(v)) throw new UsageError(`${what} ${JSON.stringify(v)} holds a comma, quote or newline, which podman's --secret cannot carry (it splits on commas); rename it, or choose a --tmpdir without one.`);
    }
    return ['--secret', `id=${f.id},src=${f.path},type=file`];
  });
}

export function podmanBuildArgv(files: readonly SecretFile[], userArgs: readonly string[], ssh: readonly string[] = []): string[] {
  // --ssh ID=SOCKET: secbuild's agents (src/run/agent.ts); podman build takes docker's form.
  return ['build', ...podmanSecretFlags(files), ...ssh.flatMap((s) => ['--ssh', s]), ...userArgs];
}
