/**
 * The HTTP side of `vault:` (./vault.ts): one bounded, timed request to the
 * Vault (or OpenBao) API with node's own http/https, no CLI and no child
 * process, so the token is never in an argv or an environment — only in the
 * X-Vault-Token header of a request to VAULT_ADDR.
 *
 * - The response body is read up to VAULT_MAX_BODY bytes (a 500 KiB value,
 *   JSON-escaped, and Vault's envelope); past that the request is aborted.
 * - VAULT_CACERT names a PEM file of CA certificates for an https VAULT_ADDR.
 * - VAULT_CLIENT_TIMEOUT (seconds, Vault's own variable; default 60) bounds the
 *   whole request, not each wait for a byte.
 * - An https certificate is always verified (NODE_TLS_REJECT_UNAUTHORIZED is
 *   not honoured; the vault CLI's VAULT_SKIP_VERIFY is not either).
 * - Failures are `VaultHttpError` with a code; the body is never put in one.
 *
 * node:http and node:https are imported when a request is made, not with
 * this module: they and the TLS and crypto modules they pull in cost every
 * build ~5 ms to load (test/cli/hot-path.test.ts).
 */
import { MAX_SECRET_BYTES } from '../src/secrets/limits.js';
import { readBounded } from '../src/util/read.js';

/** Two escaped characters per value byte at worst for text, and the envelope (metadata, other keys). */
export const VAULT_MAX_BODY = 2 * MAX_SECRET_BYTES + 64 * 1024;

export interface VaultConn {
  readonly addr: URL;
  readonly namespace: string | undefined;
  readonly ca: Buffer | undefined;
  readonly timeoutMs: number;
}

export interface VaultAnswer {
  readonly status: number;
  readonly body: Buffer;
}

export class VaultHttpError extends Error {
  constructor(readonly kind: 'unreachable' | 'timeout' | 'too-large' | 'tls', readonly code: string) {
    super(`${kind} (${code})`);
  }
}

/** Reads VAULT_CACERT (at most 1 MiB); throws when it cannot, the caller words it. */
export function readCaCert(path: string): Promise<Buffer> {
  return readBounded(path, 1024 * 1024);
}

/** `METHOD /v1/API` with the token (when given) and namespace headers; resolves with the status and the bounded body. */
export async function vaultRequest(conn: VaultConn, method: 'GET' | 'POST', api: string, token: string | undefined, json?: unknown): Promise<VaultAnswer> {
  const url = new URL(`v1/${api}`, conn.addr.href.endsWith('/') ? conn.addr : new URL(`${conn.addr.href}/`));
  const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json), 'utf8');
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token !== undefined) headers['X-Vault-Token'] = token;
  if (conn.namespace) headers['X-Vault-Namespace'] = conn.namespace;
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  const send = url.protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
  return new Promise((resolve, reject) => {
    // rejectUnauthorized is explicit: node would otherwise take it from NODE_TLS_REJECT_UNAUTHORIZED=0, set for some other tool.
    const tlsOptions = url.protocol === 'https:' ? { rejectUnauthorized: true, ...(conn.ca ? { ca: conn.ca } : {}) } : {};
    const req = send(url, { method, headers, ...tlsOptions }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > VAULT_MAX_BODY) {
          for (const c of chunks) c.fill(0);
          chunk.fill(0);
          req.destroy(new VaultHttpError('too-large', `more than ${VAULT_MAX_BODY} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        for (const c of chunks) c.fill(0);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', (e) => reject(e));
    });
    // One deadline for the whole request, as the vault CLI's client timeout: a socket idle timeout would let a
    // server that sends a byte now and then hold the run for ever.
    const deadline = setTimeout(() => req.destroy(new VaultHttpError('timeout', `${conn.timeoutMs / 1000}s`)), conn.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof VaultHttpError) return reject(e);
      const code = e.code ?? 'error';
      reject(new VaultHttpError(/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code) ? 'tls' : 'unreachable', code));
    });
    req.end(payload);
  });
}
