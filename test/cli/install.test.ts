/**
 * The README's install, as a user does it without the npm registry knowing
 * secbuild: `npm pack` in the clone, then `npm install -g ./secbuild-X.tgz`
 * (here into a temp prefix; the dependencies come from npm's cache where
 * `npm ci` put them, else from the registry). The installed copy runs
 * `--version` and a `--dry-run` build (argv and files only: the docker
 * stand-in), and nothing of secbuild's runs at install time: the package
 * has no install script, so npm has nothing of ours to run or warn about.
 *
 * And `node scripts/build.mjs` (which `npm pack` runs) never leaves dist/
 * without one of its files: a secbuild running from the clone meanwhile
 * keeps finding its parts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, ROOT, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';
import { cleanEnv } from '../helpers/servers.js';

/** npm's environment without what `npm test` sets for its scripts (npm_config_prefix and the like). */
const npmEnv = () => cleanEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

describe('install from a packed tarball (npm pack, npm install -g)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-cli-install-'));
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok\n');
  afterAll(() => {
    ctx.cleanup();
    rmSync(dir, { recursive: true, force: true });
    box.cleanup();
  });

  test('the installed secbuild runs --version and a --dry-run build (argv and files only); npm runs no script of ours at install', { timeout: 300_000 }, () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
    const packed = spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, env: npmEnv(), encoding: 'utf8', timeout: 120_000 });
    expect(packed.status, packed.stderr).toBe(0);
    const tgz = join(dir, `secbuild-${pkg.version}.tgz`);
    expect(packed.stdout.trim().split('\n').pop()).toBe(`secbuild-${pkg.version}.tgz`);

    const prefix = join(dir, 'prefix');
    // keytar (optional) would compile for 20 s or more here: what is tested is secbuild's own install, which
    // has no script to run (the manifest below; npm 11 warns about any such script not in allowScripts).
    const installed = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--omit=optional', '--ignore-scripts', tgz], {
      cwd: dir,
      env: npmEnv(),
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(installed.status, installed.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(prefix, 'lib', 'node_modules', 'secbuild', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s))).toEqual([]);

    const bin = join(prefix, 'bin', 'secbuild');
    const version = spawnSync(bin, ['--version'], { cwd: dir, encoding: 'utf8' });
    expect(version.stdout, version.stderr).toBe(`${pkg.version}\n`);

    const { env } = fake.record({ INSTALL_TOK: 'installed-value-1' });
    const dry = spawnSync(bin, ['--dry-run', '--secret', 'id=tok,from=env:INSTALL_TOK', '-t', 'x', ctx.dir], { cwd: dir, env, encoding: 'utf8' });
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`docker build --secret id=tok,src=${box.tmp}/secbuild-\\d+-XXXXXX/00-tok -t x ${ctx.dir}`));
    expect(dry.stdout + dry.stderr).not.toContain('installed-value-1');
    expect(readdirSync(box.tmp)).toEqual([]);
  });

  test('a build replaces dist/ file by file: while it runs, every file of dist/ is there', { timeout: 120_000 }, async () => {
    const files = readdirSync(join(ROOT, 'dist')).filter((f) => /\.c?js$/.test(f));
    expect(files).toContain('secbuild.cjs');
    const missing = new Set<string>();
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      for (const f of files) if (!existsSync(join(ROOT, 'dist', f))) missing.add(f);
    }, 2);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(timer);
    expect(code, stderr).toBe(0);
    expect([...missing]).toEqual([]);
    expect(readdirSync(join(ROOT, 'dist')).filter((f) => !/\.c?js$/.test(f))).toEqual([]);
  });
});
