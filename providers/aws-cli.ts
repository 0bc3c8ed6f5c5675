/**
 * One call to the `aws` CLI for the AWS providers (./aws-sm.ts, ./aws-ssm.ts),
 * and what its failures mean in secbuild's words.
 *
 * Why the CLI and not the JavaScript SDK: the SDK (@aws-sdk/client-secrets-
 * manager, client-ssm and the credential providers) is not a dependency today
 * and would add some 100 packages and tens of MB to every install, for users
 * who mostly have `aws` already; its credential chain (SSO, profiles with
 * credential_process, IMDS, container roles) is the CLI's own. The CLI's
 * cost is its start-up, about 1 s (Python), paid once per reference per run:
 * references resolve in parallel and each only once.
 *
 * The CLI gets PATH, HOME (for ~/.aws), the standard AWS_* variables of the
 * credential chain and region resolution, the proxy variables, and
 * AWS_PAGER="" (no pager) — nothing else (./store-cli.ts). Debian's awscli
 * 2.9 ignores AWS_ENDPOINT_URL and aws-cli v1 ignores AWS_REGION, so both are
 * also given as --endpoint-url and --region (AWS_ENDPOINT_URL_SECRETS_MANAGER
 * and AWS_ENDPOINT_URL_SSM win for their service). Output is JSON, parsed in
 * memory and wiped; a message names the reference, the AWS error code at
 * most (never the CLI's text) and the fix.
 *
 * Neither AWS provider has `envVars`, on purpose: the AWS credentials stay in
 * docker's and `secbuild exec`'s environment (docker's ECR credential helper
 * needs them; so does `secbuild exec -- aws …`), unlike VAULT_TOKEN and
 * OP_SERVICE_ACCOUNT_TOKEN (README "Two decisions"; test/unit/resolve.test.ts).
 */
import { MissingSecret, ProviderError, type ResolveContext } from './types.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliVersion, runStoreCli, storeEnv } from './store-cli.js';
import { anySet, type Readiness, type ReadinessContext } from './types.js';
import { withVars } from '../src/run/env.js';

export const AWS_VARS = [
  'HOME', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN',
  'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CA_BUNDLE', 'AWS_ROLE_ARN', 'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_EC2_METADATA_DISABLED',
  'AWS_METADATA_SERVICE_TIMEOUT', 'AWS_METADATA_SERVICE_NUM_ATTEMPTS', 'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_USE_FIPS_ENDPOINT', 'AWS_MAX_ATTEMPTS', 'AWS_RETRY_MODE', 'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_SSM',
  'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy',
];

const AWS_SETUP_VARS = /^AWS_(PROFILE|DEFAULT_PROFILE|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|REGION|DEFAULT_REGION|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|CONTAINER_CREDENTIALS_\w+|CONFIG_FILE|SHARED_CREDENTIALS_FILE|ENDPOINT_URL\w*)$/;

export type AwsService = 'secretsmanager' | 'ssm';

/** `--region` and `--endpoint-url` from the environment (see the header). */
export function awsGlobalArgs(service: AwsService, env: Readonly<Record<string, string | undefined>>): string[] {
  const args: string[] = [];
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (region) args.push('--region', region);
  const endpoint = (service === 'ssm' ? env.AWS_ENDPOINT_URL_SSM : env.AWS_ENDPOINT_URL_SECRETS_MANAGER) || env.AWS_ENDPOINT_URL;
  if (endpoint) args.push('--endpoint-url', endpoint);
  return args;
}

/** The failure in secbuild's words; `what` names the missing thing (`secret "app/npm"`). */
function awsFailure(ref: string, what: string, stderr: string, exitCode: number | undefined): Error {
  const code = /An error occurred \(([A-Za-z0-9.]+)\)/.exec(stderr)?.[1];
  if (code === 'ResourceNotFoundException' || code === 'ParameterNotFound' || code === 'ParameterVersionNotFound') {
    return new MissingSecret(`${ref}: AWS has no ${what} in this account and region (${code}); check the name, AWS_REGION and AWS_PROFILE`);
  }
  if (/Unable to locate credentials|NoCredentialProviders|Could not connect to the endpoint URL: "http:\/\/169\.254/.test(stderr)) {
    return new ProviderError(`${ref}: the aws CLI found no AWS credentials; set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in with aws sso login`);
  }
  if (/The config profile \(.*\) could not be found/.test(stderr)) {
    return new ProviderError(`${ref}: AWS_PROFILE names a profile that is not in the AWS config file; check AWS_PROFILE and ~/.aws/config (or AWS_CONFIG_FILE)`);
  }
  if (/must specify a region|Invalid endpoint: https:\/\/[a-z-]+\.\.amazonaws/i.test(stderr)) {
    return new ProviderError(`${ref}: no AWS region is named; set AWS_REGION (or region in the AWS_PROFILE's config)`);
  }
  if (/Could not connect to the endpoint URL|Connection was closed|Max retries exceeded/.test(stderr)) {
    return new ProviderError(`${ref}: the aws CLI could not reach the AWS endpoint; check the network, AWS_REGION and AWS_ENDPOINT_URL`);
  }
  if (code) {
    return new ProviderError(`${ref}: AWS refused to give the ${what} (${code}); check that the credentials of AWS_PROFILE may read it`);
  }
  return new ProviderError(`${ref}: the aws CLI exited with code ${exitCode ?? 'unknown'}; run the same aws command by hand to see why`);
}

/** Runs `aws SERVICE …args --output json` and returns the parsed answer; the raw output is wiped. */
export async function awsJson(ref: string, what: string, service: AwsService, args: readonly string[], ctx: ResolveContext): Promise<Record<string, unknown>> {
  const env = withVars(storeEnv(ctx, AWS_VARS), { AWS_PAGER: '' });
  const call = { ref, tool: 'aws', install: 'install the AWS CLI (apt-get install awscli, or https://aws.amazon.com/cli/)', env };
  const r = await runStoreCli(call, [...awsGlobalArgs(service, ctx.childEnv), service, ...args, '--output', 'json'], ctx);
  try {
    if (r.exitCode !== 0) throw awsFailure(ref, what, r.stderr, r.exitCode);
    try {
      return JSON.parse(r.stdout.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new ProviderError(`${ref}: the aws CLI's answer was not JSON; check that AWS_DEFAULT_OUTPUT or the profile does not change the output`);
    }
  } finally {
    r.stdout.fill(0);
  }
}

/**
 * For doctor: the aws CLI found, and where credentials and a region would
 * come from — named from the environment and the config files' existence,
 * nothing read from them, no request to AWS.
 */
export async function awsReadiness(ctx: ReadinessContext): Promise<Readiness> {
  const env = ctx.childEnv;
  const home = env.HOME ?? '';
  // Used: an aws-sm:/aws-ssm: reference in the specs, a credential, profile, region or endpoint variable set
  // (not AWS_CA_BUNDLE or the retry knobs, which proxies and tools set), or a ~/.aws.
  const used = ctx.refs.length > 0 || anySet(env, AWS_SETUP_VARS) || (home !== '' && existsSync(join(home, '.aws')));
  const version = await cliVersion('aws', ['--version'], withVars(storeEnv(ctx, AWS_VARS), { AWS_PAGER: '' }));
  if (!version) return { store: 'aws', ok: false, used, text: used ? 'the aws CLI is not installed; aws-sm: and aws-ssm: references will fail until it is (apt-get install awscli)' : 'aws-sm: and aws-ssm: references need the aws CLI: apt-get install awscli, or https://aws.amazon.com/cli/' };
  const files = [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE || join(home, '.aws', 'config')].filter((f) => f !== '/dev/null' && existsSync(f));
  const creds = env.AWS_ACCESS_KEY_ID ? 'AWS_ACCESS_KEY_ID' : env.AWS_PROFILE ? `profile ${env.AWS_PROFILE}` : env.AWS_WEB_IDENTITY_TOKEN_FILE ? 'AWS_WEB_IDENTITY_TOKEN_FILE'
    : env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI ? 'the container credentials endpoint' : files.length ? files.join(' and ') : undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!creds) {
    const text = used ? `${version} found, but no credentials are named (no AWS_PROFILE, AWS_ACCESS_KEY_ID or ~/.aws files; an instance role may still answer); set AWS_PROFILE or run aws configure` : `${version} found; aws-sm: and aws-ssm: references need credentials: AWS_PROFILE, or aws configure`;
    return { store: 'aws', ok: false, used, text };
  }
  return { store: 'aws', ok: true, used, text: `${version}, credentials from ${creds}, region ${region ?? 'from the profile'} (not checked with AWS: no request is made)` };
}
