/** secbuild's version, set from package.json by scripts/build.mjs (esbuild `define`). */
declare const __SECBUILD_VERSION__: string;
export const VERSION = typeof __SECBUILD_VERSION__ === 'string' ? __SECBUILD_VERSION__ : '0.0.0-dev';
