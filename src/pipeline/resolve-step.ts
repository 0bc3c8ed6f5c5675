/**
 * Resolution as every command runs it: all secrets at once, then — before
 * anything is printed — secbuild's own output filter is set to the forms of
 * every value that resolved and of what failing providers printed (src/util/
 * log.ts `setOutputFilter`), so a provider's stderr quoting a value, in an
 * error, `secbuild secrets` or the report, shows `***`.
 */
import { textMasker } from '../guards/mask-text.js';
import type { ChildEnv } from '../run/env.js';
import { patternsFor } from '../secrets/forms.js';
import { resolveSpecs, type Resolution } from '../secrets/resolve.js';
import type { SecretSpec } from '../secrets/spec.js';
import { ResolveError } from '../util/errors.js';
import { masked, setOutputFilter } from '../util/log.js';

export async function resolveMasked(
  specs: readonly SecretSpec[],
  base: { env: NodeJS.ProcessEnv; childEnv: ChildEnv },
  opts: { keepGoing?: boolean } = {},
): Promise<Resolution> {
  const resolution = await resolveSpecs(specs, base, { keepGoing: true });
  const outputs = resolution.failedOutputs.map((value) => ({ id: '(failed provider output)', value }));
  setOutputFilter(textMasker(patternsFor([...resolution.values, ...outputs])));
  const failures = resolution.failures.map((f) => ({ ...f, reason: masked(f.reason) }));
  if (failures.length > 0 && !opts.keepGoing) throw new ResolveError(failures);
  return { ...resolution, failures };
}
