/**
 * Which engine builds: `--engine docker|podman`, else SECBUILD_ENGINE, else
 * podman when `--podman PATH` is given, else docker — and podman when no
 * docker CLI is found but podman is (said in one line). The binary: --docker /
 * SECBUILD_DOCKER / PATH, or --podman / SECBUILD_PODMAN / PATH. The podman
 * engine is its own bundle (dist/podman.cjs), loaded only when podman is asked
 * for or docker is missing, so a docker build does not load it.
 */
import { UsageError } from '../util/errors.js';
import { info } from '../util/log.js';
import { showTyped } from '../util/shown.js';
import { findDocker } from './docker/detect.js';
import { dockerEngine } from './docker/engine.js';
import { ENGINE_NAMES, type Engine, type EngineName } from './engine.js';

export interface EngineChoice {
  /** --engine */
  builder?: string;
  /** --docker, --podman */
  docker?: string;
  podman?: string;
}

/** The engine asked for by flag or variable, if any (an unknown name is a usage error). */
export function askedEngine(o: EngineChoice, env: NodeJS.ProcessEnv): EngineName | undefined {
  const [value, from] = o.builder !== undefined ? [o.builder, '--engine'] : env.SECBUILD_ENGINE ? [env.SECBUILD_ENGINE, 'SECBUILD_ENGINE'] : [undefined, ''];
  if (value === undefined) return o.podman !== undefined ? 'podman' : undefined;
  if (!(ENGINE_NAMES as readonly string[]).includes(value)) throw new UsageError(`${from} ${showTyped(value)}: expected ${ENGINE_NAMES.join(' or ')}.`);
  return value as EngineName;
}

export async function chooseEngine(o: EngineChoice, env: NodeJS.ProcessEnv): Promise<Engine> {
  const asked = askedEngine(o, env);
  if (asked === 'podman') {
    const { findPodman, podmanEngine } = await import('./podman/engine.js');
    return podmanEngine(findPodman(o.podman, env));
  }
  if (asked === 'docker' || o.docker !== undefined || env.SECBUILD_DOCKER !== undefined) return dockerEngine(findDocker(o.docker, env));
  let docker: string;
  try {
    docker = findDocker(undefined, env);
  } catch (err) {
    const { findPodman, podmanEngine } = await import('./podman/engine.js');
    let podman: string;
    try {
      podman = findPodman(undefined, env);
    } catch {
      throw err;
    }
    info(`engine: podman (${podman}), as no docker CLI is on PATH; --engine docker|podman chooses.`);
    return podmanEngine(podman);
  }
  return dockerEngine(docker);
}
