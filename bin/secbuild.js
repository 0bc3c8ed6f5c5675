#!/usr/bin/env node
// Thin shim: everything lives in the bundled entry, which dist/loader.cjs runs with V8's code cache of it
// (src/cli/loader.ts). CommonJS (bin/package.json): an ES module here would start Node's ES module loader
// before anything of secbuild's runs, which cost every run 6 ms.
require('../dist/loader.cjs').runEntry(require('node:path').join(__dirname, '..', 'dist', 'secbuild.cjs'));
