/** `secbuild clean`: remove run directories whose secbuild process is gone. */
import { info } from '../../util/log.js';
import { sweepStale } from '../../run/liveness.js';
import { chooseRoot } from '../../run/rundir.js';

export async function cleanCommand(opts: { tmpdir?: string }): Promise<void> {
  const root = chooseRoot({ tmpdir: opts.tmpdir, env: process.env, requireTmpfs: false });
  const removed = await sweepStale(root.root);
  info(removed.length === 0 ? `nothing to clean in ${root.root}` : `removed ${removed.length} stale run director${removed.length === 1 ? 'y' : 'ies'} from ${root.root}: ${removed.join(', ')}`);
}
