/**
 * `aws-ssm:NAME` — a parameter of AWS Systems Manager Parameter Store, read
 * with `aws ssm get-parameter --with-decryption` (./aws-cli.ts says why the
 * CLI, and what it gets of the environment). A SecureString comes back
 * decrypted, a String or StringList as stored. NAME is the parameter's name
 * (`/ci/npm-token`) or ARN; SSM's own selectors `NAME:VERSION` and
 * `NAME:LABEL` pick a version.
 *
 *   aws ssm put-parameter --name /ci/npm-token --type SecureString --value "$TOKEN"
 *   secbuild --secret id=npm,from=aws-ssm:/ci/npm-token -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     npm: { from: "aws-ssm:/ci/npm-token" }
 *
 * Credentials and region are the CLI's: AWS_PROFILE, AWS_ACCESS_KEY_ID…,
 * AWS_REGION, AWS_ENDPOINT_URL. A parameter that does not exist is
 * `MissingSecret` (an optional secret is skipped).
 */
import { awsJson, awsReadiness } from './aws-cli.js';
import { ProviderError, type SecretProvider } from './types.js';

export const awsSsmProvider = {
  scheme: 'aws-ssm',
  usage: 'aws-ssm:NAME          an AWS SSM Parameter Store parameter (SecureString decrypted)',
  check(key) {
    if (key === '') return 'the parameter name is empty';
    if (key.startsWith('-')) return 'the parameter name starts with "-"';
    return undefined;
  },
  describe: (key) => `aws-ssm:${key}`,
  readiness: awsReadiness,
  async resolve(key, ctx) {
    const ref = `aws-ssm:${key}`;
    const answer = await awsJson(ref, `parameter "${key}"`, 'ssm', ['get-parameter', '--name', key, '--with-decryption'], ctx);
    const value = (answer.Parameter as { Value?: unknown } | undefined)?.Value;
    if (typeof value !== 'string') throw new ProviderError(`${ref}: the answer held no Parameter.Value; run aws ssm get-parameter --name ${key} by hand to see why`);
    return Buffer.from(value, 'utf8');
  },
} satisfies SecretProvider;
