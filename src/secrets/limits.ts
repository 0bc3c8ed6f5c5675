/**
 * BuildKit refuses a secret larger than this (moby/buildkit
 * session/secrets/secretsprovider/files.go: `MaxSecretSize = 500 * 1024`,
 * compared with `>`), so secbuild checks it before docker runs.
 */
export const MAX_SECRET_BYTES = 500 * 1024;
