// Bundles secbuild's own code into one ESM file (dist/secbuild.js), so a build
// loads exactly one module of ours. Dependencies stay external in node_modules
// and are imported with import() where they are used (commander for the
// subcommands, execa for probes and cmd:, yaml for secbuild.yml, dockerfile-ast
// when a Dockerfile scan is not cached, keytar for the keychain,
// @balena/dockerignore for check's context rules, tar-stream for verify's
// image scan), never at the top level — a top-level import of an external
// would load it on every run.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const EXTERNAL = ['keytar', 'execa', 'commander', 'yaml', 'dockerfile-ast', '@balena/dockerignore', 'tar-stream'];
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Start from an empty dist/ so nothing stale is shipped.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { secbuild: 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  // Dependencies stay in node_modules and are imported only where used, so the
  // bundle holds secbuild's own code alone and a build loads exactly one file.
  external: EXTERNAL,
  define: { __SECBUILD_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});

// Guard: a static import of a dependency would load it on every build.
const out = readFileSync(new URL('../dist/secbuild.js', import.meta.url), 'utf8');
for (const dep of EXTERNAL) {
  if (new RegExp(`^import[^;]*from\\s*["']${dep}["']`, 'm').test(out)) {
    console.error(`build: dist/secbuild.js imports ${dep} at the top level; import it with await import() where it is used.`);
    process.exit(1);
  }
}
