/**
 * The real Secret Service the keychain tests talk to: gnome-keyring under
 * dbus-run-session, unlocked, as .ci/run starts it. The conformance suite's
 * keychain fixture and the e2e keychain tests decide the same way whether it
 * is there, and the e2e tests seed and remove items with the platform's own
 * `secret-tool` (the keytar schema: service + account).
 */
import { onPath } from './ci.js';
import { sh } from './cli.js';

/** Why the Secret Service cannot be used here, or undefined when it can. */
export function secretServiceProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.DBUS_SESSION_BUS_ADDRESS) return 'DBUS_SESSION_BUS_ADDRESS is not set (no Secret Service session; run under dbus-run-session as .ci/run does)';
  if (!onPath('secret-tool', env)) return 'secret-tool is not on PATH (install libsecret-tools)';
  return undefined;
}

export const secretTool = {
  store: (service: string, account: string, value: string | Buffer) =>
    sh('secret-tool', ['store', `--label=${service}`, 'service', service, 'account', account], { input: value }),
  lookup: (service: string, account: string) => sh('secret-tool', ['lookup', 'service', service, 'account', account]),
  clear: (service: string, account: string) => sh('secret-tool', ['clear', 'service', service, 'account', account]),
};
