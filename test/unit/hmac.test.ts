import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { hmacSha256, sha256 } from '../../src/util/hmac.js';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('HMAC-SHA-256 without node:crypto', () => {
  // RFC 4231 section 4: test cases 1, 2, 3, 4, 6 and 7 (5 truncates the output).
  test.each<[string, Buffer, Buffer, string]>([
    ['1', Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['2', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['3', Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['4', hex('0102030405060708090a0b0c0d0e0f10111213141516171819'), Buffer.alloc(50, 0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['6', Buffer.alloc(131, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    ['7', Buffer.alloc(131, 0xaa), Buffer.from('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
  ])('RFC 4231 case %s', (_n, key, data, want) => {
    expect(hmacSha256(key, data).toString('hex')).toBe(want);
  });

  test('the same as node:crypto on random keys and inputs of every length around the block edges, and in parts', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 100_000]) {
      const key = randomBytes(32);
      const data = randomBytes(n);
      expect(sha256(data).equals(createHash('sha256').update(data).digest())).toBe(true);
      expect(hmacSha256(key, data).equals(createHmac('sha256', key).update(data).digest())).toBe(true);
      const cut = n >> 1;
      expect(hmacSha256(key, data.subarray(0, cut), data.subarray(cut)).equals(createHmac('sha256', key).update(data).digest())).toBe(true);
    }
  });
});
