/** Docker discovery (issue 11 item 2): which other docker CLI to name when the chosen one has no BuildKit. Pure parts, table-driven. */
import { describe, expect, test } from 'vitest';
import { findWorkingDocker, noBuildKitAdvice, otherDockers, shortVersion } from '../../src/engines/docker/discover.js';

// /bin is /usr/bin here (usrmerge), as on Debian 12.
const FILES: Record<string, string> = {
  '/usr/local/bin/docker': '/usr/local/bin/docker',
  '/usr/bin/docker': '/usr/bin/docker',
  '/bin/docker': '/usr/bin/docker',
  '/opt/x/docker': '/opt/x/docker',
};
const real = (p: string) => FILES[p];

describe('otherDockers', () => {
  test.each<[string, string, string[]]>([
    ['/usr/local/bin/docker', '/usr/local/bin:/usr/bin:/bin', ['/usr/bin/docker']],
    ['/usr/bin/docker', '/usr/local/bin:/usr/bin:/bin', ['/usr/local/bin/docker']],
    ['/usr/local/bin/docker', '/opt/x:/usr/local/bin', ['/opt/x/docker', '/usr/bin/docker']],
    ['/usr/local/bin/docker', '', ['/usr/bin/docker']],
  ])('chosen %s, PATH %s', (chosen, path, want) => {
    expect(otherDockers(chosen, path, real).map(([p]) => p)).toEqual(want);
  });
});

describe('findWorkingDocker', () => {
  test('the first candidate the probe accepts, named as found on PATH; a probe that throws is skipped', async () => {
    const seen: string[] = [];
    const hit = await findWorkingDocker('/usr/local/bin/docker', '/opt/x:/bin', async (d) => {
      seen.push(d);
      if (d === '/opt/x/docker') throw new Error('no buildx');
      return { clientVersion: '20.10.24+dfsg1' };
    }, real);
    expect(seen).toEqual(['/opt/x/docker', '/usr/bin/docker']);
    expect(hit).toEqual({ path: '/bin/docker', clientVersion: '20.10.24+dfsg1' });
  });

  test('none when every probe refuses', async () => {
    expect(await findWorkingDocker('/usr/local/bin/docker', '/usr/bin', async () => undefined, real)).toBeUndefined();
  });
});

describe('noBuildKitAdvice', () => {
  test.each<[string, string]>([
    ['20.10.24+dfsg1', '20.10'],
    ['28.2.2', '28.2'],
    ['', 'unknown version'],
  ])('shortVersion(%s)', (v, want) => expect(shortVersion(v)).toBe(want));

  test('names the CLI that can, the DOCKER_BUILDKIT=1 rule and the missing Debian package', () => {
    const text = noBuildKitAdvice({ path: '/usr/bin/docker', clientVersion: '20.10.24+dfsg1' });
    expect(text).toContain('/usr/bin/docker (20.10) can: rerun with SECBUILD_DOCKER=/usr/bin/docker');
    expect(text).toContain('older than 23 builds with BuildKit when DOCKER_BUILDKIT=1');
    expect(text).toContain('Debian 12 has no docker-buildx package');
  });

  test('says none was found', () => {
    expect(noBuildKitAdvice(undefined)).toMatch(/^No other docker CLI here can/);
  });
});
