/**
 * keytar is an optional dependency (a native module that needs libsecret to
 * build), so `npm install` may leave it out. providers/keychain.ts imports it
 * lazily and types what it gets against its own Keytar interface; this
 * declaration only lets `tsc` resolve the specifier when the package is
 * absent. It names the three functions secbuild calls, as keytar 7 exports them.
 * An ambient declaration: when keytar is installed, this one is used instead
 * of the package's own types, which say the same.
 */
declare module 'keytar' {
  export function getPassword(service: string, account: string): Promise<string | null>;
  export function setPassword(service: string, account: string, password: string): Promise<void>;
  export function deletePassword(service: string, account: string): Promise<boolean>;
}
