import { format, inspect } from 'node:util';
import { describe, expect, test, vi } from 'vitest';
import { Secret } from '../../src/secrets/secret.js';

const VALUE = 'hunter2-Secret-Value';
const secret = () => new Secret('npm', 'env:NPM_TOKEN', Buffer.from(VALUE));
/**
 * Whether `text` shows the value: as text, as hex (inspect prints `<Buffer 68 75 …>`),
 * or as a byte list (a Buffer in JSON or inspect, a cloned Uint8Array's `{"0":104,…}`).
 */
const bytes = [...Buffer.from(VALUE)];
function shows(text: string): boolean {
  const compact = text.replace(/\s+/g, '');
  return text.includes(VALUE)
    || compact.includes(Buffer.from(VALUE).toString('hex'))
    || compact.includes(bytes.join(','))
    || compact.includes(bytes.map((b, i) => `"${i}":${b}`).join(','));
}

describe('Secret never prints its value', () => {
  test.each<[string, (s: Secret) => string]>([
    ['String()', (s) => String(s)],
    ['template literal', (s) => `${s}`],
    ['concatenation', (s) => 'x' + s],
    ['JSON.stringify', (s) => JSON.stringify(s)],
    ['JSON.stringify nested', (s) => JSON.stringify({ list: [s], by: { id: s } })],
    ['util.inspect', (s) => inspect(s)],
    ['util.inspect nested, showHidden', (s) => inspect({ a: [s] }, { showHidden: true, depth: 10 })],
    ['util.format %s %o %O %j', (s) => format('%s %o %O %j', s, s, s, s)],
    ['object spread', (s) => JSON.stringify({ ...s })],
    ['Object.assign + inspect', (s) => inspect(Object.assign({}, s), { customInspect: false })],
    ['Object.entries', (s) => JSON.stringify(Object.entries(s))],
    ['structuredClone', (s) => JSON.stringify(structuredClone(s))],
  ])('%s', (_name, print) => {
    const text = print(secret());
    expect(shows(text), text).toBe(false);
  });

  test('the leak check itself recognises every form', () => {
    const b = Buffer.from(VALUE);
    for (const text of [VALUE, inspect(b), JSON.stringify(b), inspect(new Uint8Array(b)), JSON.stringify(structuredClone(new Uint8Array(b)))]) {
      expect(shows(text), text).toBe(true);
    }
  });

  test('what it prints instead: id, source and length', () => {
    const s = secret();
    expect(String(s)).toBe('[secret npm]');
    expect(JSON.parse(JSON.stringify(s))).toEqual({ id: 'npm', source: 'env:NPM_TOKEN', bytes: VALUE.length });
    expect(inspect(s)).toBe(`Secret(npm, env:NPM_TOKEN, ${VALUE.length} bytes)`);
  });

  test('the bytes are still there for the one place that writes them', () => {
    const bytes = Buffer.from([0, 255, 10]);
    const s = new Secret('b', 'file:x', bytes);
    expect(s.value).toBe(bytes);
    expect(s.bytes).toBe(3);
    expect(Object.keys(s)).toEqual(['id', 'source']);
  });
});

describe('typed errors across bundles', () => {
  test('instanceof follows the brand, not class identity', async () => {
    const a = await import('../../src/util/errors.js');
    // A second copy of the module, as a separately bundled command would have.
    vi.resetModules();
    const b = await import('../../src/util/errors.js');
    expect(b.LeakError).not.toBe(a.LeakError);
    const leak = new b.LeakError('x');
    expect(leak instanceof a.SecbuildError).toBe(true);
    expect(leak instanceof a.LeakError).toBe(true);
    expect(leak instanceof a.UsageError).toBe(false);
    expect(leak instanceof a.DockerExit).toBe(false);
    expect(leak.name).toBe('LeakError');
    expect(leak.exitCode).toBe(4);
    expect(new a.DockerExit(7) instanceof b.SecbuildError).toBe(true);
    expect(new Error('plain') instanceof a.SecbuildError).toBe(false);
    expect((null as unknown as object) instanceof a.SecbuildError).toBe(false);
  });
});
