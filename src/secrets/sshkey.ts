/**
 * An SSH private key as secbuild checks it before any agent or docker runs:
 * which format (OpenSSH `openssh-key-v1`, or PEM: PKCS#1 RSA, SEC1 EC,
 * PKCS#8), whether it is passphrase-protected, its type and its fingerprint
 * (`SHA256:` + unpadded base64 of the SHA-256 of the public key blob, as
 * `ssh-keygen -l` and `ssh-add -l` print it). Pure: bytes in, a description
 * out; nothing here prints or keeps the key.
 *
 * Formats follow openssh-portable PROTOCOL.key (the `openssh-key-v1` container:
 * cipher, kdf, kdf options, key count, public keys, private section) and
 * sshkey.c `sshkey_parse_private_pem_fileblob` (PEM, with `Proc-Type:
 * 4,ENCRYPTED` for legacy encrypted PEM and `ENCRYPTED PRIVATE KEY` for
 * PKCS#8). A PEM key's public blob is rebuilt from node:crypto's JWK export in
 * the wire format of RFC 4253 §6.6 (ssh-rsa), RFC 5656 §3.1 (ecdsa-sha2-*)
 * and RFC 8709 (ssh-ed25519).
 */
import { createHash, createPublicKey } from 'node:crypto';

export interface SshKeyInfo {
  format: 'openssh' | 'pem';
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`…; undefined when a passphrase hides it. */
  type?: string;
  /** `SHA256:…`; undefined when a passphrase hides the public key. */
  fingerprint?: string;
  encrypted: boolean;
  /** The key as ssh-add gets it: CRLF → LF, surrounding whitespace dropped, one final newline. */
  normalized: Buffer;
}

/** Why a value is not a usable private key; `message` never quotes the value. */
export class SshKeyError extends Error {}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const PEM_LABELS = new Set(['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Reads SSH wire-format strings (uint32 length + bytes) from a buffer, bounds-checked. */
class Wire {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new SshKeyError('the OpenSSH key is cut short');
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (n > this.buf.length - this.at) throw new SshKeyError('the OpenSSH key is cut short');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  text(): string {
    return this.bytes().toString('latin1');
  }
}

const str = (b: Buffer | string): Buffer => {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};

/** An SSH mpint from unsigned big-endian bytes: no leading zeros, one 0x00 when the high bit is set. */
function mpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const trimmed = unsigned.subarray(i);
  return str(trimmed[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), trimmed]) : trimmed);
}

const CURVES: Record<string, string> = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' };

/** The public key blob of an unencrypted PEM key, and its SSH type. */
function pemPublic(pem: string): { type: string; blob: Buffer } {
  let jwk: Record<string, string | undefined>;
  try {
    jwk = createPublicKey({ key: pem, format: 'pem' }).export({ format: 'jwk' }) as Record<string, string | undefined>;
  } catch {
    throw new SshKeyError('the PEM block does not hold a private key node:crypto can read (damaged, or an unsupported algorithm)');
  }
  const b = (field: string | undefined) => Buffer.from(field ?? '', 'base64url');
  if (jwk.kty === 'RSA') return { type: 'ssh-rsa', blob: Buffer.concat([str('ssh-rsa'), mpint(b(jwk.e)), mpint(b(jwk.n))]) };
  if (jwk.kty === 'EC' && jwk.crv && CURVES[jwk.crv]) {
    const curve = CURVES[jwk.crv]!;
    const type = `ecdsa-sha2-${curve}`;
    return { type, blob: Buffer.concat([str(type), str(curve), str(Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]))]) };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return { type: 'ssh-ed25519', blob: Buffer.concat([str('ssh-ed25519'), str(b(jwk.x))]) };
  throw new SshKeyError(`the PEM key's algorithm (${jwk.kty ?? 'unknown'}${jwk.crv ? ` ${jwk.crv}` : ''}) is not one ssh-agent takes (RSA, ECDSA P-256/384/521, Ed25519)`);
}

/** The base64 body of one PEM-style block: the lines between BEGIN and END, headers (`Key: value`) skipped. */
function bodyOf(lines: readonly string[]): { headers: string[]; body: Buffer } {
  const headers = lines.filter((l) => /^[A-Za-z-]+:/.test(l));
  const text = lines.filter((l) => !/^[A-Za-z-]+:/.test(l) && l !== '').join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new SshKeyError('the key body is not base64');
  return { headers, body: Buffer.from(text, 'base64') };
}

/** Checks `value` is one SSH private key and describes it; throws SshKeyError. */
export function inspectKey(value: Buffer): SshKeyInfo {
  const text = value.toString('utf8').replace(/\r\n?/g, '\n').trim();
  const lines = text.split('\n').map((l) => l.trim());
  const label = BEGIN.exec(lines[0] ?? '')?.[1];
  if (label === undefined) {
    const hint = text.startsWith('ssh-') || text.startsWith('ecdsa-') ? ' (it looks like a public key; give the private key)' : '';
    throw new SshKeyError(`the value is not an SSH private key: it does not start with a "-----BEGIN … PRIVATE KEY-----" line${hint}`);
  }
  const end = lines.indexOf(`-----END ${label}-----`);
  if (end < 0) throw new SshKeyError(`the "BEGIN ${label}" block has no matching END line`);
  if (lines.slice(end + 1).some((l) => l !== '')) throw new SshKeyError('the value holds more than the one key block; give one key per reference');
  const normalized = Buffer.from(`${lines.slice(0, end + 1).join('\n')}\n`, 'utf8');
  const { headers, body } = bodyOf(lines.slice(1, end));
  if (label === 'OPENSSH PRIVATE KEY') {
    if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw new SshKeyError('the OpenSSH key does not start with "openssh-key-v1"');
    const w = new Wire(body.subarray(MAGIC.length));
    const cipher = w.text();
    w.text(); // kdf name
    w.bytes(); // kdf options
    const count = w.u32();
    if (count !== 1) throw new SshKeyError(`the OpenSSH key file holds ${count} keys; give one key per reference`);
    const blob = w.bytes();
    const type = new Wire(blob).text();
    return { format: 'openssh', type, fingerprint: fingerprintOf(blob), encrypted: cipher !== 'none', normalized };
  }
  if (!PEM_LABELS.has(label)) throw new SshKeyError(`a "${label}" block is not a private key ssh-agent takes (OPENSSH, RSA, EC PRIVATE KEY or PKCS#8 PRIVATE KEY)`);
  if (label === 'ENCRYPTED PRIVATE KEY' || headers.some((h) => /^Proc-Type:\s*4,\s*ENCRYPTED/i.test(h))) {
    return { format: 'pem', encrypted: true, normalized };
  }
  if (body.length === 0) throw new SshKeyError('the PEM key body is empty');
  const { type, blob } = pemPublic(normalized.toString('utf8'));
  return { format: 'pem', type, fingerprint: fingerprintOf(blob), encrypted: false, normalized };
}
