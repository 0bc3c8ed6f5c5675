/**
 * The tiers' sandboxes on a /dev/shm mounted noexec, as docker and podman
 * mount it in a container and hardened hosts do (issue 24: `npm test` on a
 * machine with nothing but Node). The stand-ins a test runs (docker, cmd:
 * providers) are files in the sandbox; on such a mount they could not start
 * (EACCES) and every stand-in test failed. A noexec tmpfs is mounted here to
 * be that /dev/shm.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeUnless } from '../helpers/ci.js';
import { execAllowed, sandbox } from '../helpers/cli.js';

const root = process.getuid?.() === 0;
const mount = spawnSync('sh', ['-c', 'command -v mount'], { stdio: 'ignore' }).status === 0;

describeUnless(!root ? 'mounting a noexec tmpfs needs root' : !mount ? 'mount is not on PATH' : false, 'sandboxes on a noexec /dev/shm', () => {
  const shm = mkdtempSync(join(tmpdir(), 'secbuild-cli-noexec-shm-'));
  beforeAll(() => {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=4m,mode=1777', 'tmpfs', shm], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
  });
  afterAll(() => {
    spawnSync('umount', [shm]);
    rmSync(shm, { recursive: true, force: true });
  });

  test('a stand-in in the sandbox runs; the secret root is on the noexec tmpfs; cleanup leaves both places empty', () => {
    expect(execAllowed(shm)).toBe(false);
    const box = sandbox('secbuild-cli-noexec-', shm);
    const standIn = join(box.dir, 'docker');
    writeFileSync(standIn, '#!/bin/sh\necho ran\n', { mode: 0o755 });
    expect(spawnSync(standIn, { encoding: 'utf8' }).stdout).toBe('ran\n');
    expect(box.tmp.startsWith(`${shm}/`)).toBe(true);
    expect(readdirSync(box.tmp)).toEqual([]);
    box.cleanup();
    expect(existsSync(box.dir)).toBe(false);
    expect(readdirSync(shm)).toEqual([]);
  });
});
