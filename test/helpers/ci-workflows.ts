/**
 * examples/ci's workflows as data, for the tests that run their commands
 * (test/e2e/ci-recipes.test.ts) and read their shape (test/cli/ci-examples.test.ts):
 * parsed with `yaml` from the files as shipped, so a test follows every edit.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './cli.js';

export const CI_EXAMPLE = join(ROOT, 'examples', 'ci');

export interface GitHubStep {
  name?: string;
  uses?: string;
  with?: Record<string, string>;
  run?: string;
  env?: Record<string, string>;
}

export interface GitLabJob {
  image: string;
  services: string[];
  variables: Record<string, string>;
  before_script: string[];
  script: string[];
}

/** The steps of github-actions.yml's one job. */
export function githubSteps(): GitHubStep[] {
  const doc = parse(readFileSync(join(CI_EXAMPLE, 'github-actions.yml'), 'utf8')) as { jobs: Record<string, { steps: GitHubStep[] }> };
  const jobs = Object.values(doc.jobs);
  if (jobs.length !== 1) throw new Error(`github-actions.yml has ${jobs.length} jobs; these tests expect one`);
  return jobs[0]!.steps;
}

/** gitlab-ci.yml's one job. */
export function gitlabJob(): GitLabJob {
  const doc = parse(readFileSync(join(CI_EXAMPLE, 'gitlab-ci.yml'), 'utf8')) as Record<string, GitLabJob>;
  const jobs = Object.values(doc);
  if (jobs.length !== 1) throw new Error(`gitlab-ci.yml has ${jobs.length} jobs; these tests expect one`);
  return jobs[0]!;
}

/**
 * A value with its `${{ secrets.X }}` / `${{ vars.X }}` expressions replaced
 * from `context`; any other expression, or a name the context lacks, throws
 * (the test would otherwise run a step with a value the workflow never meant).
 */
export function expand(value: string, context: { secrets: Record<string, string>; vars: Record<string, string> }): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^(secrets|vars)\.(\w+)$/.exec(expr);
    const found = m ? context[m[1] as 'secrets' | 'vars'][m[2]!] : undefined;
    if (found === undefined) throw new Error(`the workflow's expression \${{ ${expr} }} has no value in the test's context`);
    return found;
  });
}

export interface Ran {
  what: string;
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `argv` in `cwd` with exactly `env`, capturing both streams. */
export function runIn(what: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ what, code, stdout, stderr, ms: Date.now() - start }));
  });
}

/** stderr without the `::add-mask::` lines (the one place GitHub's runner is handed a value, and consumes it). */
export const withoutAddMask = (stderr: string): string => stderr.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
