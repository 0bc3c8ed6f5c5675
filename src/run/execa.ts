/**
 * execa, bundled into a part of its own (dist/execa.js, see scripts/build.mjs):
 * loaded from node_modules it is some fifty modules and took 65-73 ms to
 * import here; as one bundled file 18 ms. Only the exec seam (./exec.ts)
 * imports this, with import(), the first time it captures a command.
 */
export { execa } from 'execa';
