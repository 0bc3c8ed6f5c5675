/**
 * Secbuild's own lines on stderr. Nothing here ever receives a secret value:
 * callers pass ids, references and paths.
 */
export function info(line: string): void {
  process.stderr.write(`secbuild: ${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`secbuild: warning: ${line}\n`);
}

export function debug(line: string): void {
  if (process.env.SECBUILD_DEBUG === '1') process.stderr.write(`secbuild: debug: ${line}\n`);
}
