/**
 * The package as npm would install it: `bin` is the CLI, importing the
 * package runs nothing (its `exports` expose package.json only, so neither
 * `import 'secbuild'` nor a deep import of dist/ reaches the CLI bundle),
 * every dependency is used, and package-lock.json lists exactly the
 * dependencies package.json does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, ROOT, sandbox } from '../helpers/cli.js';

interface Pkg {
  version: string;
  bin: Record<string, string>;
  exports?: unknown;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(ROOT, dir, f));
}

describe('packaging', () => {
  const box = sandbox();
  // An installed copy as a dependent project sees it: node_modules/secbuild → this checkout.
  const app = join(box.dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(app, 'node_modules', 'secbuild'));
  const node = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } });
  afterAll(() => box.cleanup());

  test('bin is bin/secbuild.js, an executable shim that runs the CLI', () => {
    expect(pkg.bin).toEqual({ secbuild: 'bin/secbuild.js' });
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
    expect(execFileSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
  });

  test.each([
    ['the package', 'secbuild'],
    ['the CLI bundle', 'secbuild/dist/secbuild.cjs'],
    ['the loader', 'secbuild/dist/loader.cjs'],
    ['the bin shim', 'secbuild/bin/secbuild.js'],
  ])('importing %s is refused by exports and runs nothing', (_name, specifier) => {
    const r = node(`await import(${JSON.stringify(specifier)});`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(r.stdout).toBe('');
  });

  test('package.json stays readable through exports', () => {
    const r = node("import { createRequire } from 'node:module'; process.stdout.write(createRequire(import.meta.url)('secbuild/package.json').version);");
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(pkg.version);
  });

  test.each(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }))('dependency %s is imported by src/ or providers/', (dep) => {
    const pattern = new RegExp(`(?:from\\s*|import\\(\\s*)['"]${dep.replace(/[/.]/g, '\\$&')}['"]`);
    const users = [...sources('src'), ...sources('providers')].filter((f) => pattern.test(readFileSync(f, 'utf8')));
    expect(users, `${dep} is in package.json but nothing imports it; npm uninstall it`).not.toEqual([]);
  });

  test('package-lock.json lists the same dependencies as package.json', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Partial<Pkg>> };
    const root = lock.packages['']!;
    expect(root.dependencies).toEqual(pkg.dependencies);
    expect(root.optionalDependencies).toEqual(pkg.optionalDependencies);
    expect(root.devDependencies).toEqual(pkg.devDependencies);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${dep}`], `package-lock.json has no entry for ${dep}; run npm install`).toBeDefined();
    }
  });
});
