/**
 * The two-service Compose project the compose tests of both tiers share:
 * compose.yaml + compose.ci.yaml, .env, a template, compose-level file: and
 * environment: secrets, and secbuild's own secrets. Each importing test file
 * gets its own ID, so project names, image tags and values never collide.
 */
import { createHash } from 'node:crypto';
import { BASE, nonce } from './cli.js';

export const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
export const ID = nonce();

export const V = {
  gh: `gh-${ID}-token`,
  npm: `npm-${ID}-token`,
  pipUser: `user-${ID}`,
  pipPass: `pw ${ID}/x`,
  fileTok: `file-${ID}-value`,
  envTok: `env-${ID}-value`,
  tok: `tok-${ID}-value`,
};
export const VALUES = Object.values(V);

/** The values that `out` contains (expect it to be []). */
export const leakedValues = (out: string) => VALUES.filter((v) => out.includes(v));

export const PROJECT = {
  '.env': `BASE_IMAGE=${BASE}\nRUN_ID=${ID}\n`,
  'compose.yaml': [
    'name: secbuild-e2e-${RUN_ID:?RUN_ID comes from .env}',
    'services:',
    '  api:',
    '    build:',
    '      context: api',
    '      args: { BASE: "${BASE_IMAGE}" }',
    '      secrets: [netrc]',
    '  web:',
    '    build:',
    '      context: ./web',
    '      args:',
    '        BASE: ${BASE_IMAGE:-missing}',
    '        GREETING: "$${NOT_INTERPOLATED}"',
    '      secrets: [npmrc]',
    '    depends_on: [api]',
    'secrets:',
    '  file_tok: { file: ./tok.txt }',
    '  env_tok: { environment: E2E_COMPOSE_ENV_TOKEN }',
    '',
  ].join('\n'),
  'compose.ci.yaml': [
    'services:',
    '  web:',
    '    build:',
    '      target: final',
    '      args: ["GREETING=$${NOT_INTERPOLATED} from ci"]',
    '      secrets:',
    '        - pip_conf',
    '        - { source: file_tok, target: filetok }',
    '        - env_tok',
    '',
  ].join('\n'),
  'secbuild.yml': [
    'secrets:',
    '  pip_user: { from: env:E2E_PIP_USER }',
    '  pip_pass: { from: env:E2E_PIP_PASS }',
    '  pip_conf: { template: ./pip.conf.tmpl }',
    '',
  ].join('\n'),
  'pip.conf.tmpl': '[global]\nindex-url = https://${pip_user|url}:${pip_pass|url}@pypi.example/simple/\n',
  'tok.txt': V.fileTok,
  // ${ID} in each RUN: BuildKit's cache key does not cover secret contents.
  'api/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=netrc,target=/root/.netrc echo ${ID} >/dev/null && sha256sum /root/.netrc > /hashes\n`,
  'web/Dockerfile': [
    'ARG BASE',
    'FROM $BASE AS final',
    'ARG GREETING',
    'RUN --mount=type=secret,id=npmrc --mount=type=secret,id=pip_conf --mount=type=secret,id=filetok --mount=type=secret,id=env_tok \\',
    `    echo ${ID} >/dev/null && sha256sum /run/secrets/npmrc /run/secrets/pip_conf /run/secrets/filetok /run/secrets/env_tok > /hashes && echo "$GREETING" > /greeting`,
    '',
  ].join('\n'),
};

/** secbuild's own credential-file flags for the project (netrc for api, npmrc for web). */
export const FLAGS = [
  '--netrc', 'machine=github.com,login=x-access-token,password=env:E2E_GH',
  '--npmrc', 'registry=https://npm.pkg.github.com/,token=env:E2E_NPM,scope=@acme',
];
export const SECRET_ENV = { E2E_GH: V.gh, E2E_NPM: V.npm, E2E_PIP_USER: V.pipUser, E2E_PIP_PASS: V.pipPass, E2E_COMPOSE_ENV_TOKEN: V.envTok, E2E_TOKEN: V.tok };

/** The files secbuild renders for the project, byte for byte. */
export const NETRC = `machine github.com\n  login x-access-token\n  password ${V.gh}\n`;
export const NPMRC = `@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=${V.npm}\n`;
export const PIP = `[global]\nindex-url = https://${V.pipUser}:${encodeURIComponent(V.pipPass)}@pypi.example/simple/\n`;
