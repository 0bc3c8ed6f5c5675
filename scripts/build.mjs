// Bundles the CLI into one ESM file so that `secbuild --version` starts with a
// single module load. Native or heavy modules stay external or are split into
// lazily loaded chunks (dynamic import()).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry content hashes: start from an empty dist/ so stale chunks are not shipped.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { secbuild: 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  external: ['keytar'],
  define: { __SECBUILD_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    // Bundled CommonJS dependencies (commander) call require().
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
