/**
 * `secbuild check [build arguments] [--format text|json] [CONTEXT]`: the
 * static findings of src/check for the Dockerfile a build with the same
 * arguments would use. It takes a build's command line as it is (secbuild's
 * secret flags, -f, --target, --build-arg; other docker flags are accepted and
 * ignored), so `secbuild check …` can run ahead of `secbuild build …` in CI.
 * Exit 0 when there is no error-level finding (warnings allowed), 4 when there is;
 * 2 (as the build's preflight) when a mount's env= would be refused by the
 * frontend that parses it (src/check/mount-env.ts; the daemon is asked its
 * version only when no syntax line decides).
 * Secrets are not resolved: only their declared ids are used.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { parseBuildArgs } from '../../args/build.js';
import { splitFormat } from '../../args/check.js';
import { helpTail } from '../../args/help.js';
import { optionLines, OWN_OPTIONS } from '../../args/own.js';
import { checkDockerfile, displayPath, RULES, type CheckFinding } from '../../check/index.js';
import { LeakError, UsageError } from '../../util/errors.js';
import { info } from '../../util/log.js';
import { planSpecs } from '../../secrets/plan.js';
import { checkSshConflicts, isSshSpec, providedSshIds } from '../../secrets/ssh.js';
import { isRemoteContext } from '../../engines/docker/context.js';
import { defaultDockerfile } from '../../engines/engine.js';
import { askedEngine } from '../../engines/select.js';
import { askDocker, buildArgValues, noDockerfile, requireMountEnv } from '../../pipeline/preflight.js';
import { parseDockerfile } from '../../dockerfile/model.js';
import { findDocker } from '../../engines/docker/detect.js';
import { dockerfileTooLarge, isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../../util/read.js';

export async function checkCommand(argv: readonly string[]): Promise<void> {
  const { format, rest } = splitFormat(argv);
  const args = parseBuildArgs(rest);
  if (args.help) {
    process.stdout.write(checkHelp());
    return;
  }
  const env = process.env;
  const cwd = process.cwd();
  const contextArg = args.dockerArgs[args.contextIndex] ?? '.';
  if (contextArg === '-' || isRemoteContext(contextArg)) throw new UsageError(`secbuild check reads a local build context, got "${contextArg}"; give a directory.`);
  if (args.file === '-') throw new UsageError('secbuild check reads the Dockerfile from a file; give -f PATH instead of -f -.');
  const context = resolvePath(cwd, contextArg);
  const engine = askedEngine(args, env) ?? 'docker';
  const path = args.file ? (isAbsolute(args.file) ? args.file : resolvePath(cwd, args.file)) : defaultDockerfile(context, engine);
  let dockerfile: string;
  try {
    dockerfile = (await readBounded(path, MAX_DOCKERFILE_BYTES)).toString('utf8');
  } catch (err) {
    if (isTooLarge(err)) throw new UsageError(dockerfileTooLarge(path), { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' && !args.file ? noDockerfile(path, context) : code === 'ENOENT' ? `no Dockerfile at ${path}; check -f.` : `cannot read Dockerfile ${path} (${code}); check -f.`);
  }

  const plan = await planSpecs(args, env, cwd);
  checkSshConflicts(plan.specs, args.ssh);
  const ssh = providedSshIds(plan.specs, args.ssh);
  const plain = plan.specs.filter((s) => !isSshSpec(s));
  const provided = new Set(plain.filter((s) => s.mount).map((s) => s.id));
  const optional = new Set(plain.filter((s) => s.mount && s.optional).map((s) => s.id));
  const inputs = new Set(plain.filter((s) => !s.mount).map((s) => s.id));
  const buildArgs = buildArgValues(args, env);
  // The same refusal as the build's preflight, from the same (cached) model.
  const ask = async () => {
    try {
      return await askDocker(findDocker(args.docker, env), args.dockerArgs, plan.childEnv);
    } catch {
      return { engine: 'docker', unknown: 'no docker CLI to ask the daemon' } as const;
    }
  };
  await requireMountEnv(await parseDockerfile({ dockerfile, path, target: args.target, buildArgs }), displayPath(path, cwd), engine, ask);
  const { findings, notes } = await checkDockerfile({
    dockerfile,
    path,
    target: args.target,
    buildArgs,
    context,
    secrets: { provided, optional, inputs, ssh },
    cwd,
  });

  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.length - errors;
  if (format === 'json') {
    const report = { dockerfile: displayPath(path, cwd), context: displayPath(context, cwd), errors, warnings, findings, notes };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const n of notes) info(n);
    process.stdout.write(findings.map(textFinding).join(''));
    const counts = [plural(errors, 'error'), plural(warnings, 'warning')].join(', ');
    process.stdout.write(findings.length ? `${counts}\n` : `${displayPath(path, cwd)}: no findings\n`);
  }
  if (errors > 0) throw new LeakError(`${plural(errors, 'error')} found in ${displayPath(path, cwd)} (listed above).`, { reported: true });
}

function textFinding(f: CheckFinding): string {
  return `${f.file}${f.line === null ? '' : `:${f.line}`}: ${f.level} ${f.rule}: ${f.message}\n  fix: ${f.fix}\n`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function checkHelp(): string {
  const width = Math.max(...Object.keys(RULES).map((r) => r.length));
  return [
    'Usage: secbuild check [--secret SPEC …] [--netrc SPEC …] [--npmrc SPEC …] [--config PATH] [-f Dockerfile] [--target T] [--build-arg K=V …] [--format text|json] [CONTEXT]',
    '',
    'Static findings for the Dockerfile a build with the same arguments would use (CONTEXT defaults to .).',
    'Takes a build command line as it is; docker flags other than -f, --target and --build-arg are ignored.',
    'Silence a rule for one instruction with a "# secbuild-ignore RULE" comment directly above it.',
    '',
    'Options:',
    ...optionLines([
      ...OWN_OPTIONS.filter((o) => ['secrets', 'netrc', 'npmrc', 'sshKeys', 'config'].includes(o.key)),
      { name: '-f, --file', value: 'PATH', help: 'the Dockerfile (default: CONTEXT/Dockerfile)' },
      { name: '--target', value: 'STAGE', help: 'check only the stages this target reaches' },
      { name: '--build-arg', value: 'K=V', help: 'an ARG value for $VAR expansion (repeatable)' },
      { name: '--format', value: 'text|json', help: 'one line per finding (text), or the whole result (json)' },
    ]),
    '',
    'Rules:',
    ...Object.entries(RULES).map(([id, r]) => `  ${id.padEnd(width)}  ${r.level.padEnd(7)}  ${r.summary}`),
    '',
    helpTail({
      examples: ['secbuild check .', 'secbuild check --secret id=npm,from=env:NPM_TOKEN -f docker/Dockerfile --target prod .', 'secbuild check --format json . > findings.json'],
      exits: [[0, 'no error-level finding (warnings allowed)'], [2, 'usage error, or an env= on a mount that the frontend in use refuses'], [4, 'an error-level finding: the build would leak a secret or mount nothing']],
    }),
  ].join('\n');
}
