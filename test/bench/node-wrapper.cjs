// The least any node wrapper of a command can do, timed by the overhead
// sections next to secbuild: start node, load child_process, spawn the
// command with its output piped (as secbuild does to mask it), forward the
// output, exit with the command's code. No check, no file, no watchdog.
// Its overhead over the raw command, in bare node starts, is the floor under
// every ratio target (`node test/bench/node-wrapper.cjs FILE ARG…`).
'use strict';
const { spawn } = require('node:child_process');

const [file, ...args] = process.argv.slice(2);
const child = spawn(file, args, { stdio: ['inherit', 'pipe', 'pipe'] });
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
child.on('error', (err) => {
  process.stderr.write(`node-wrapper: ${file}: ${err.message}\n`);
  process.exitCode = 127;
});
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal ? 128 : 1);
});
