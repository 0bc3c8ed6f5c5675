/**
 * What secbuild prints of text the user typed: secret references, ids, file
 * paths, field values. A credential is often typed where a reference
 * belongs — `token=$NPM_TOKEN` instead of `token=env:NPM_TOKEN`, `from=env:$GH`
 * — and secbuild must not echo it back into a CI log, `secbuild secrets`,
 * `--dry-run` or a report. Resolved values are masked by the redactor; a value
 * typed by mistake never resolves, so it is kept out here instead:
 *
 * - a field that must hold a reference but does not parse as one (unknown or
 *   no scheme, an invalid variable name) is reported by its field name and
 *   position (`--npmrc #1 token=`), never by its text (spec.ts, parseRef);
 * - a bare name that should name another secret but names none is reported the
 *   same way (resolve.ts, config.ts);
 * - anything else typed that is printed — a reference's key, a path, a
 *   netrc machine, a registry URL — goes through showTyped, which replaces
 *   every word that looks like a credential (a known token prefix such as
 *   `ghp_`/`npm_`/`glpat-`, or a long run of letters and digits) by
 *   `<hidden>`: `env:NPM_TOKEN` prints as it is, `env:ghp_…` as `env:<hidden>`.
 *
 * `Shown` is a string only showTyped (or the `shown` tag, whose fixed parts
 * are the program's own) makes; spec origins, reference descriptions and a
 * Secret's source are typed with it, so they cannot be filled with raw input.
 */

declare const brand: unique symbol;
export type Shown = string & { readonly [brand]: true };

export const HIDDEN = '<hidden>';

// Token formats with a fixed prefix (GitHub, GitLab, npm, Slack, OpenAI/Stripe,
// AWS, Google, Hugging Face, PyPI, DigitalOcean, SendGrid, a JWT's header).
const TOKEN_PREFIX = /^(gh[pousr]_|github_pat_|glpat-|npm_|xox[abposr]-|sk-|sk_(live|test)_|rk_(live|test)_|AKIA|ASIA|AIza|ya29\.|eyJ|hf_|pypi-|dop_v1_|SG\.)[A-Za-z0-9_.-]{12,}/;

/** Whether one word (no separators) looks like a credential rather than a name a person chose. */
export function looksLikeCredential(word: string): boolean {
  if (TOKEN_PREFIX.test(word)) return true;
  for (const run of word.split(/[_.-]+/)) {
    // A run of 32+ letters/digits, or 16+ that mixes letters and digits: random, not a name.
    if (run.length >= 32) return true;
    if (run.length >= 16 && /[0-9]/.test(run) && /[A-Za-z]/.test(run)) return true;
  }
  return false;
}

// Words are what lies between separators a reference, a path or a URL uses.
const SEPARATORS = /([\s:/=,@?&#;"'()[\]{}<>|\\]+)/;

/** Text with every credential-looking word replaced by HIDDEN (lines kept: a provider's message). */
export function hideCredentials(text: string): string {
  return text
    .split(SEPARATORS)
    .map((part, i) => (i % 2 === 0 && looksLikeCredential(part) ? HIDDEN : part))
    .join('');
}

/**
 * Control characters made spaces: C0, DEL and C1 (U+009B is CSI to a terminal
 * that reads UTF-8), so printed foreign text cannot move the cursor or recolour.
 */
export function withoutControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** Control characters made spaces except line breaks and tabs: multi-line text (an error, a --dry-run plan) that may hold foreign words. */
export function withoutControlsKeepingLines(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]+/g, ' ');
}

/** Typed text as secbuild prints it: every credential-looking word hidden, control characters made spaces. */
export function showTyped(text: string): Shown {
  return hideCredentials(withoutControls(text)) as Shown;
}

/** Program text with shown parts: `shown\`--npmrc #${n} token=\``. Only a literal template can supply the fixed parts. */
export function shown(fixed: TemplateStringsArray, ...parts: Array<Shown | number>): Shown {
  return fixed.reduce((out, s, i) => out + s + (i < parts.length ? String(parts[i]) : ''), '') as Shown;
}

/** `--flag #N` (N from 1) when the flag is given more than once, else `--flag`: where a field was typed. */
export function flagAt(flag: '--secret' | '--netrc' | '--npmrc' | '--ssh-key', index: number | undefined): Shown {
  return index === undefined ? shown`${flag as Shown}` : shown`${flag as Shown} #${index + 1}`;
}
