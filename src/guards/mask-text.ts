/**
 * The redactor for secbuild's own text (errors, info lines, --dry-run, the
 * report, `secbuild secrets`): the same patterns and the same rules as
 * docker's masked output (src/guards/redact.ts), applied to a whole string.
 */
import type { Pattern } from '../secrets/forms.js';
import { Redactor } from './redact.js';

export function textMasker(patterns: readonly Pattern[]): (text: string) => string {
  if (patterns.length === 0) return (text) => text;
  return (text) => {
    const out: Buffer[] = [];
    const r = new Redactor(patterns, (chunk) => out.push(Buffer.from(chunk)), { idleMs: 0 });
    r.write(Buffer.from(text, 'utf8'));
    r.end();
    return Buffer.concat(out).toString('utf8');
  };
}
