/**
 * Whether secbuild runs in CI: `CI=true` or any CI system `ci-info` knows
 * (Buildkite, CircleCI, Jenkins, GitLab, …; `CI=false` says no). In CI a
 * terminal is a log (README "What is masked"): docker's and exec's output are
 * masked on it (src/pipeline/output.ts), a `cmd:` provider's stderr is not
 * shown on it (providers/cmd.ts), and no child gets it as a terminal it could
 * write to past the masking (src/run/exec.ts `noTerminal`). `ci-info` is
 * loaded only when asked, and its answer kept.
 */
let answer: Promise<boolean> | undefined;

export function inCI(): Promise<boolean> {
  answer ??= import('ci-info').then((m) => {
    const ci = m as unknown as { default?: { isCI: boolean }; isCI?: boolean };
    return Boolean(ci.default?.isCI ?? ci.isCI);
  });
  return answer;
}
