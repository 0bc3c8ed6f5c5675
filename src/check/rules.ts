/**
 * The rules of `secbuild check` and the shape of a finding. A finding names
 * files, lines, secret ids and ARG/ENV names — never a value: check does not
 * resolve secrets and never prints an ARG default or an ENV value.
 */

export const RULES = {
  'secret-id-missing': { level: 'error', summary: 'a RUN mounts a secret id that no --secret/secbuild.yml entry provides' },
  'secret-id-unused': { level: 'warning', summary: 'a provided secret is mounted by no RUN in the stages the build reaches' },
  'ssh-id-missing': { level: 'error', summary: 'a RUN mounts an ssh id (type=ssh) that no --ssh-key, secbuild.yml ssh: or docker --ssh forwards' },
  'ssh-id-unused': { level: 'warning', summary: 'a forwarded ssh id is mounted by no RUN in the stages the build reaches' },
  'secret-in-arg-or-env': { level: 'warning', summary: "an ARG or ENV name looks like a credential (Docker's SecretsUsedInArgOrEnv word list)" },
  'credential-file-copied': { level: 'error', summary: 'COPY/ADD puts a credential file into a layer, by name or through a directory copy' },
  'credential-file-in-context': { level: 'warning', summary: 'a credential file is in the build context and not excluded by .dockerignore' },
  'secret-written-to-layer': { level: 'warning', summary: 'a RUN copies, cats or redirects a mounted secret into a file that stays in the layer' },
} as const satisfies Record<string, { level: Level; summary: string }>;

export type Level = 'error' | 'warning';
export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

export function isRuleId(s: string): s is RuleId {
  return Object.hasOwn(RULES, s);
}

export interface CheckFinding {
  rule: RuleId;
  level: Level;
  /** The Dockerfile, or the credential file for context findings. */
  file: string;
  /** 1-based; null when the finding has no line (an unused secret, a file in the context). */
  line: number | null;
  /** One sentence: what is wrong and why it matters. */
  message: string;
  /** One sentence: how to fix it. */
  fix: string;
}

export interface CheckResult {
  findings: CheckFinding[];
  /** Things check could not decide (a variable it cannot expand, a remote context); printed, never fatal. */
  notes: string[];
}

/** `FILE:LINE: ` (or `FILE: `) + message + fix, as one line: the form errors take in a build. */
export function findingLine(f: CheckFinding): string {
  return `${f.file}${f.line === null ? '' : `:${f.line}`}: ${f.message} ${f.fix}`;
}
