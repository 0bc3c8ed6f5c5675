/**
 * `secbuild doctor`'s podman lines: whether `--engine podman` can build here
 * (found, local not remote, `build --secret`, `podman info` answers), and
 * where buildah keeps its copies of the secrets (the graph root).
 * Podman is optional: when it is not installed that is one `ok` line.
 */
import { detectPodman, findPodman, graphRootInMemory } from '../../engines/podman/detect.js';
import type { ChildEnv } from '../../run/env.js';

type Line = (status: 'ok' | 'warn' | 'fail', what: string, detail: string) => void;

/** Prints the podman lines; resolves to whether podman can build here. `wanted`: the engine was asked for (a missing podman fails). */
export async function podmanLines(o: { podman?: string; wanted: boolean }, env: NodeJS.ProcessEnv, childEnv: ChildEnv, line: Line): Promise<boolean> {
  let podman: string;
  try {
    podman = findPodman(o.podman, env);
  } catch (err) {
    if (o.wanted) line('fail', 'podman', (err as Error).message);
    else line('ok', 'podman', 'not installed (optional: secbuild --engine podman builds with it)');
    return false;
  }
  try {
    const f = await detectPodman(podman, childEnv);
    line('ok', 'podman', `${podman} (podman ${f.version}, ${f.rootless ? 'rootless' : 'rootful'}, local service): secbuild --engine podman can build`);
    const mem = graphRootInMemory(f);
    line(mem ? 'ok' : 'warn', 'podman storage', `graph root ${f.graphRoot || '(unknown)'}${mem ? ' is memory-backed' : " is not memory-backed: buildah copies each mounted secret into the build's working container there while a stage builds (removed with it; --require-tmpfs refuses this)"}`);
    return true;
  } catch (err) {
    line(o.wanted ? 'fail' : 'warn', 'podman', (err as Error).message);
    return false;
  }
}
