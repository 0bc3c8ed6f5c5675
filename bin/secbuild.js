#!/usr/bin/env node
// Thin shim: everything lives in the bundled entry.
import '../dist/secbuild.js';
