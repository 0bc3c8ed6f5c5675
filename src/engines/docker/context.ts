/**
 * Build contexts as docker reads them: a local directory, `-` (a tar on
 * stdin), or a remote one — a URL (`https://…`, `git://…`), `git@host:repo`
 * or `github.com/…` (docker/cli cli/command/image/build.go, urlutil). A remote
 * context is fetched by the builder, so secbuild cannot read its Dockerfile.
 */
export function isRemoteContext(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@') || /^github\.com\//.test(context);
}
