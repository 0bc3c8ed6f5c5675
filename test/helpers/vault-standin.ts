/**
 * A RECORDING STAND-IN for Vault's HTTP API (Vault cannot run here). It
 * implements only the documented answers `vault:` relies on, and records each
 * request's method, path and headers:
 *
 * - GET  /v1/sys/internal/ui/mounts/PATH → 200 {data:{path:"MOUNT/",type:"kv",options:{version}}},
 *        400 {errors:["no mount found …"]} when no mount holds PATH;
 * - GET  /v1/MOUNT/data/REST (KV v2) → 200 {data:{data:{…},metadata:{…}}}, 404 {errors:[]};
 * - GET  /v1/MOUNT/REST (KV v1) → 200 {data:{…}}, 404 {errors:[]};
 * - POST /v1/auth/approle/login {role_id,secret_id} → 200 {auth:{client_token}}, 400;
 * - a request without the right X-Vault-Token → 403 {errors:["permission denied"]}.
 *
 * `legacy` makes the preflight answer 404, as a Vault before 0.10 does;
 * `tls` (a key and certificate in PEM) serves https instead of http.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface VaultStandin {
  readonly addr: string;
  readonly requests: Recorded[];
  /** mount ("secret") → KV version and its secrets (path under the mount → data). */
  readonly mounts: Record<string, { version: 1 | 2; secrets: Record<string, Record<string, unknown>> }>;
  token: string;
  approle: { roleId: string; secretId: string } | undefined;
  legacy: boolean;
  /** Bytes of padding added to every secret read's body (an oversized answer). */
  pad: number;
  stop(): Promise<void>;
}

export async function startVaultStandin(token: string, tls?: { key: Buffer; cert: Buffer }): Promise<VaultStandin> {
  const requests: Recorded[] = [];
  const state = { token, approle: undefined as VaultStandin['approle'], legacy: false, pad: 0 };
  const mounts: VaultStandin['mounts'] = {};
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURI((req.url ?? '').split('?')[0]!);
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && path === '/v1/auth/approle/login') {
        const b = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { role_id?: string; secret_id?: string };
        if (state.approle && b.role_id === state.approle.roleId && b.secret_id === state.approle.secretId) return send(200, { auth: { client_token: state.token, lease_duration: 60 } });
        return send(400, { errors: ['invalid role or secret ID'] });
      }
      if (req.headers['x-vault-token'] !== state.token) return send(403, { errors: ['permission denied'] });
      const pre = /^\/v1\/sys\/internal\/ui\/mounts\/(.+)$/.exec(path);
      if (pre) {
        if (state.legacy) return send(404, { errors: [] });
        const name = Object.keys(mounts).find((m) => pre[1] === m || pre[1]!.startsWith(`${m}/`));
        if (!name) return send(400, { errors: [`no mount found for ${pre[1]}`] });
        return send(200, { data: { path: `${name}/`, type: 'kv', options: { version: String(mounts[name]!.version) } } });
      }
      for (const [name, m] of Object.entries(mounts)) {
        const prefix = m.version === 2 && !state.legacy ? `/v1/${name}/data/` : `/v1/${name}/`;
        if (!path.startsWith(prefix)) continue;
        const data = m.secrets[path.slice(prefix.length)];
        if (!data) return send(404, { errors: [] });
        const pad = state.pad ? { padding: 'x'.repeat(state.pad) } : {};
        return send(200, m.version === 2 && !state.legacy ? { data: { data, metadata: { version: 1, deletion_time: '', destroyed: false } }, ...pad } : { data, ...pad });
      }
      send(404, { errors: [] });
    });
  };
  const server = tls ? createTlsServer(tls, handle) : createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    addr: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    mounts,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  });
}
