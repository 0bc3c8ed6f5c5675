// Bundles secbuild into dist/ as a few self-contained files:
//
// - dist/secbuild.cjs: the entry and the whole build path (a cached build loads
//   exactly this one module of ours), CommonJS with its import() calls renamed
//   __import(), wrapped in its function, and a build id on its first line, so
//   that bin/secbuild.js can run it through dist/loader.cjs (src/cli/loader.ts)
//   with V8's code cache;
// - one file per rarely used part (the commander layer and its subcommands,
//   compose, exec, run, check, verify, the Dockerfile scanner), loaded with
//   import() only when that part runs: CommonJS made the same way as the entry,
//   which the loader runs with a code cache of its own (execa's part stays an
//   ES module, ESM below). Each carries its own copy of the modules it shares
//   with the entry, which is why src/errors.ts brands its errors instead of
//   relying on class identity.
//
// The files are built in memory and checked, then each is written to a
// temporary name in dist/ and renamed over its old copy, so dist/ never lacks
// a file (a secbuild running from the clone meanwhile keeps finding its
// parts), and a build that fails leaves dist/ as it was. Nothing installs
// this way: `npm pack` (prepack) builds the tarball's dist/, and the tarball
// has no install script (README "Install"). test/cli/install.test.ts.
//
// Dependencies stay external in node_modules and are imported with import()
// where they are used, never at the top level: a top-level import of an
// external would load it on every run. The build fails if one slips in.
// execa and yaml are the exceptions: bundled into the parts that use them
// (BUNDLED below), because loading execa's fifty modules from node_modules cost
// 50 ms more, and yaml's came through node's ES module loader.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXTERNAL = ['keytar', 'execa', 'commander', 'yaml', 'dockerfile-ast', '@balena/dockerignore', 'ci-info'];
/** Separately bundled parts: output name → source. */
const COLD = {
  cli: 'src/cli/router.ts',
  compose: 'src/cli/commands/compose.ts',
  exec: 'src/cli/commands/exec.ts',
  run: 'src/cli/commands/run.ts',
  check: 'src/cli/commands/check.ts',
  'check-rules': 'src/check/index.ts',
  verify: 'src/cli/commands/verify.ts',
  'verify-step': 'src/pipeline/verify-step.ts',
  'dockerfile-scan': 'src/dockerfile/model.ts',
  config: 'src/secrets/config.ts',
  'ssh-key': 'src/secrets/sshkey.ts',
  podman: 'src/engines/podman/engine.ts',
  'ssh-agent': 'src/run/agent.ts',
  // execa and its dependencies in one file: imported from node_modules they cost 65-73 ms, bundled 18 ms.
  execa: 'src/run/execa.ts',
};
/** Dependencies bundled into a part instead of left external (its CommonJS dependencies need a require). */
const BUNDLED = { execa: ['execa'], compose: ['yaml'], config: ['yaml'] };
const REQUIRE_SHIM = "import { createRequire as __secbuildRequire } from 'node:module'; const require = __secbuildRequire(import.meta.url);";
const coldBySource = new Map(Object.entries(COLD).map(([name, src]) => [resolve(ROOT, src), name]));
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));

/** An import of a cold part from anywhere else becomes an import of its own file in dist/. */
const coldParts = {
  name: 'cold-parts',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const source = resolve(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
      const name = coldBySource.get(source);
      if (!name || source === resolve(ROOT, b.initialOptions.entryPoints[0].in)) return undefined;
      // A static import of a part from a CommonJS part is bundled into it: the loader runs only what import() asks for.
      if (args.kind !== 'dynamic-import' && b.initialOptions.format === 'cjs') return undefined;
      return { path: `./${name}.${ESM.has(name) ? 'js' : 'cjs'}`, external: true };
    });
  },
};

const ENTRY = 'secbuild';
/**
 * Parts left ES modules, imported through node's module loader: execa's (its dependencies are ES modules
 * that read import.meta). Every other part is CommonJS run by dist/loader.cjs like the entry, with a code
 * cache of its own: as an ES module a part was compiled on every run, and the first import() started
 * node's ES module loader (`secbuild run --rm`: 8-12 ms of each run).
 */
const ESM = new Set(['execa']);
/** The function the entry's code is wrapped in; the same text as src/cli/loader.ts ENTRY_WRAPPER. */
const ENTRY_WRAPPER = '(function (exports, require, module, __filename, __dirname, __import) {';
/** Parts written as CommonJS (.cjs): the entry and the parts the loader runs as a vm.Script, and the loader bin/secbuild.js requires. */
const CJS = new Set([ENTRY, 'loader', ...Object.keys(COLD).filter((name) => !ESM.has(name))]);
/** Run by the loader as a vm.Script (wrapped, with a build id): the entry and every CommonJS part. */
const RUN_BY_LOADER = [...CJS].filter((name) => name !== 'loader');
const DIST = resolve(ROOT, 'dist');
const outFile = (out) => resolve(DIST, `${out}.${CJS.has(out) ? 'cjs' : 'js'}`);
const entries = [[ENTRY, 'src/cli/main.ts'], ['loader', 'src/cli/loader.ts'], ...Object.entries(COLD)];
/** Output path → its text, written to dist/ only once every check below has passed. */
const files = new Map();
const results = await Promise.all(
  entries.map(([out, src]) =>
    build({
      entryPoints: [{ in: src, out }],
      ...(CJS.has(out) ? { format: 'cjs', outExtension: { '.js': '.cjs' } } : { format: 'esm' }),
      outdir: DIST,
      write: false,
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      target: 'node20',
      sourcemap: false,
      legalComments: 'none',
      external: EXTERNAL.filter((dep) => !BUNDLED[out]?.includes(dep)),
      ...(BUNDLED[out] && !CJS.has(out) ? { banner: { js: REQUIRE_SHIM } } : {}),
      plugins: [coldParts],
      define: { __SECBUILD_VERSION__: JSON.stringify(pkg.version) },
      logLevel: 'warning',
    }),
  ),
);
// Every file ASCII: one character outside Latin-1 (an em dash in a comment) makes V8 hold the whole source as
// a two-byte string, twice the bytes to read, copy and hash on every run (measured on the entry: 1.5 ms per run).
// esbuild escapes strings itself but keeps comments and template text as written; \uXXXX there reads the same
// (no part of secbuild reads a template's raw text).
const ascii = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
for (const { outputFiles } of results) for (const f of outputFiles) files.set(f.path, ascii(f.text));

// The entry and the CommonJS parts: every import() becomes __import() (the loader passes it in: a vm.Script has
// no module loader of its own), and the first line names the build (a digest of the text), which keys its code cache.
for (const name of RUN_BY_LOADER) {
  const file = outFile(name);
  const code = files.get(file).replace(/\bimport\((?=["'])/g, '__import(');
  const stray = /\bimport\(|\bimport\.meta\b|\brequire\(["']\.\.?\//.exec(code);
  if (stray) {
    console.error(`build: dist/${name}.cjs has \`${stray[0]}\`, which a vm.Script cannot run: import cold parts and dependencies with await import('literal').`);
    process.exit(1);
  }
  const id = createHash('sha256').update(code).digest('hex').slice(0, 32);
  // Wrapped here rather than by the loader at each run, which cost a copy of the whole text (src/cli/loader.ts ENTRY_WRAPPER).
  files.set(file, `// secbuild-build ${id}\n${ENTRY_WRAPPER}${code}\n})`);
}

// Guard: a static import of a dependency would load it on every run of that part.
for (const [out] of entries) {
  const file = outFile(out);
  const code = files.get(file);
  for (const dep of EXTERNAL) {
    const esc = dep.replace(/[/.]/g, '\\$&');
    if (new RegExp(`^import[^;]*from\\s*["']${esc}["']|^var [\\w$]+ = (?:__toESM\\()?require\\(["']${esc}["']`, 'm').test(code)) {
      console.error(`build: ${file.slice(ROOT.length)} imports ${dep} at the top level; import it with await import() where it is used.`);
      process.exit(1);
    }
  }
}

// Publish: each file under a temporary name, then renamed over its old copy; then what no longer belongs goes.
mkdirSync(DIST, { recursive: true });
for (const [file, code] of files) {
  const tmp = resolve(DIST, `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, code);
  renameSync(tmp, file);
}
const built = new Set([...files.keys()].map((f) => basename(f)));
for (const name of readdirSync(DIST)) if (!built.has(name) && !/\.\d+\.tmp$/.test(name)) rmSync(resolve(DIST, name), { recursive: true, force: true });
