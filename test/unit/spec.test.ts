import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/util/errors.js';
import { splitCommand } from '../../providers/cmd.js';
import { groupEntries, parseNetrcFlag, parseNpmrcFlag, parseSecretFlag, type NetrcEntry } from '../../src/secrets/spec.js';
import { showTyped } from '../../src/util/shown.js';

const cwd = '/work/ctx';
const ref = (scheme: string, key: string) => ({ scheme, key, baseDir: cwd });

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('parseSecretFlag: docker forms', () => {
  const env = { SET_VAR: 'x', TOKEN: 'y', EMPTY: '' };
  test.each<[string, string, { scheme: string; key: string; label: string }]>([
    ['id=a,src=./tok', 'a', { scheme: 'file', key: './tok', label: 'src=./tok' }],
    ['id=a,source=/abs/tok', 'a', { scheme: 'file', key: '/abs/tok', label: 'src=/abs/tok' }],
    ['id=a,env=TOKEN', 'a', { scheme: 'env', key: 'TOKEN', label: 'env=TOKEN' }],
    ['type=env,id=a,src=TOKEN', 'a', { scheme: 'env', key: 'TOKEN', label: 'env=TOKEN' }],
    ['id=a,type=env,env=TOKEN', 'a', { scheme: 'env', key: 'TOKEN', label: 'env=TOKEN' }],
    ['id=a,type=file,src=tok', 'a', { scheme: 'file', key: 'tok', label: 'src=tok' }],
    ['ID=a,SRC=tok', 'a', { scheme: 'file', key: 'tok', label: 'src=tok' }],
    // Bare id: the variable named ID when it is set (even empty), else the file named ID.
    ['id=SET_VAR', 'SET_VAR', { scheme: 'env', key: 'SET_VAR', label: 'env=SET_VAR' }],
    ['id=EMPTY', 'EMPTY', { scheme: 'env', key: 'EMPTY', label: 'env=EMPTY' }],
    ['id=UNSET_VAR', 'UNSET_VAR', { scheme: 'file', key: 'UNSET_VAR', label: 'id=UNSET_VAR' }],
    // buildx only uses type= to move src= into env=; a bare id with type=file still prefers the variable.
    ['id=SET_VAR,type=file', 'SET_VAR', { scheme: 'env', key: 'SET_VAR', label: 'env=SET_VAR' }],
    ['id=token.txt', 'token.txt', { scheme: 'file', key: 'token.txt', label: 'id=token.txt' }],
  ])('%s', (value, id, want) => {
    expect(parseSecretFlag(value, env, cwd)).toEqual({
      kind: 'ref', id, optional: false, mount: true, origin: `--secret ${value}`,
      ref: ref(want.scheme, want.key), label: want.label,
    });
  });

  test('bare id follows the environment it is given, not process.env', () => {
    expect(parseSecretFlag('id=PATH', {}, cwd)).toMatchObject({ ref: ref('file', 'PATH') });
    expect(parseSecretFlag('id=PATH', { PATH: '/bin' }, cwd)).toMatchObject({ ref: ref('env', 'PATH') });
  });
});

describe('parseSecretFlag: from=', () => {
  test.each<[string, string, string]>([
    ['id=a,from=env:NPM_TOKEN', 'env', 'NPM_TOKEN'],
    ['id=a,from=file:~/.config/gh/token', 'file', '~/.config/gh/token'],
    ['id=a,from=file:rel/tok', 'file', 'rel/tok'],
    ['id=a,from=keychain:npm/ci', 'keychain', 'npm/ci'],
    ['id=a,from=keychain:svc/acc/with/slashes', 'keychain', 'svc/acc/with/slashes'],
    ['id=a,from=cmd:gh auth token', 'cmd', 'gh auth token'],
    ['id=a,"from=cmd:sh -c \'printf a,b\'"', 'cmd', "sh -c 'printf a,b'"],
    ['id=a,from="cmd:printf ""%s"" x,y"', 'cmd', 'printf "%s" x,y'],
    ['id=a,from=cmd:a=b', 'cmd', 'a=b'],
  ])('%s', (value, scheme, key) => {
    const spec = parseSecretFlag(value, {}, cwd);
    expect(spec).toEqual({ kind: 'ref', id: 'a', optional: false, mount: true, origin: `--secret ${value}`, ref: ref(scheme, key) });
  });

  test.each<[string, boolean]>([
    ['id=a,from=env:A', false],
    ['id=a,from=env:A,optional', true],
    ['optional,id=a,from=env:A', true],
    ['id=a,from=env:A,OPTIONAL', true],
    ['id=a,from=env:A,optional=true', true],
    ['id=a,from=env:A,optional=1', true],
    ['id=a,from=env:A,optional=false', false],
    ['id=a,src=tok,optional', true],
  ])('%s → optional %s', (value, optional) => {
    expect(parseSecretFlag(value, {}, cwd).optional).toBe(optional);
  });

  test('CSV quoting keeps commas and doubled quotes inside a field', () => {
    expect(parseSecretFlag('id=a,"src=a,b.txt"', {}, cwd)).toMatchObject({ ref: ref('file', 'a,b.txt') });
    expect(parseSecretFlag('id=a,src="say ""hi"".txt"', {}, cwd)).toMatchObject({ ref: ref('file', 'say "hi".txt') });
  });
});

describe('parseSecretFlag: errors', () => {
  test.each<[string, string, RegExp]>([
    ['no id', 'src=./tok', /has no id=/],
    ['empty id', 'id=,src=./tok', /has no id=/],
    ['id starting with a dash', 'id=-a,src=x', /secret id "-a" must start with a letter or digit/],
    ['id with a slash', 'id=a/b,src=x', /secret id "a\/b"/],
    ['id with a space', 'id=a b,src=x', /secret id "a b"/],
    ['unknown key', 'id=a,dst=x', /unknown key "dst"; expected id, src, source, env, type, from, optional/],
    ['a typo of from= (issue 24)', 'id=x,form=env:X', /unknown key "form"; did you mean from=\? Expected id, src/],
    ['a typo of optional=', 'id=x,from=env:X,optinal=true', /unknown key "optinal"; did you mean optional=\?/],
    ['not key=value', 'id=a,oops', /a field is not a key=value pair/],
    ['src and source', 'id=a,src=x,source=y', /src= and source= are the same key; give one/],
    ['same key twice', 'id=a,src=x,src=y', /"src" is given twice/],
    ['unsupported type', 'id=a,type=ssh,src=x', /type= must be file or env/],
    ['src and env', 'id=a,src=x,env=Y', /either src= or env=, not both/],
    ['from with src', 'id=a,from=env:A,src=x', /from= cannot be combined with src=, env= or type=/],
    ['from with env', 'id=a,from=env:A,env=B', /from= cannot be combined/],
    ['from with type', 'id=a,from=env:A,type=env', /from= cannot be combined/],
    ['bad optional', 'id=a,from=env:A,optional=maybe', /optional= must be true or false/],
    ['unterminated quote', 'id=a,src="x', /unterminated double quote/],
    ['bad env name', 'id=a,from=env:1BAD', /from= env: the text after it is not a valid environment variable name/],
    ['bad keychain key', 'id=a,from=keychain:noslash', /from= keychain: the text after it is not SERVICE\/ACCOUNT/],
    ['empty command', 'id=a,from=cmd:  ', /the command is empty/],
    ['empty file path', 'id=a,from=file:', /the file path is empty/],
  ])('%s', (_name, value, message) => {
    const err = usageError(() => parseSecretFlag(value, {}, cwd));
    expect(err.message).toMatch(/^--secret/);
    expect(err.message).toMatch(message);
  });

  test.each(['gcp-sm:secret/x', 'bw://vault/item', 'MY_TOKEN', ':x'])('unknown scheme in from=%s lists the known schemes, never the value', (from) => {
    const err = usageError(() => parseSecretFlag(`id=a,from=${from}`, {}, cwd));
    expect(err.message).toContain('--secret id=a from= is not a secret reference');
    expect(err.message).not.toContain(from);
    expect(err.message).toContain('env:, file:, keychain:, cmd:');
  });

  test('an op:// reference with too few parts names the form, never the value', () => {
    const err = usageError(() => parseSecretFlag('id=a,from=op://vault/item', {}, cwd));
    expect(err.message).toBe('--secret id=a from= op: write op://VAULT/ITEM/FIELD or op://VAULT/ITEM/SECTION/FIELD; the value is not shown, as it may be the credential itself.');
  });
});

describe('parseNetrcFlag', () => {
  test.each<[string, Omit<NetrcEntry, 'machine'>]>([
    ['login=x-access-token,password=env:GH', { login: { kind: 'literal', text: 'x-access-token' }, password: { kind: 'ref', ref: ref('env', 'GH') } }],
    ['login=env:USER_NAME,password=gh_token', { login: { kind: 'ref', ref: ref('env', 'USER_NAME') }, password: { kind: 'secret', name: 'gh_token', at: showTyped('--netrc password=') } }],
    ['login=user:name,password=keychain:gh/ci', { login: { kind: 'literal', text: 'user:name' }, password: { kind: 'ref', ref: ref('keychain', 'gh/ci') } }],
    ['login=me,password=file:~/.gh', { login: { kind: 'literal', text: 'me' }, password: { kind: 'ref', ref: ref('file', '~/.gh') } }],
    ['login=me,"password=cmd:gh auth token"', { login: { kind: 'literal', text: 'me' }, password: { kind: 'ref', ref: ref('cmd', 'gh auth token') } }],
  ])('machine=github.com,%s', (rest, fields) => {
    expect(parseNetrcFlag(`machine=github.com,${rest}`, cwd)).toEqual({ id: 'netrc', entry: { machine: 'github.com', ...fields } });
  });

  test('id= names the file', () => {
    expect(parseNetrcFlag('machine=h,login=l,password=p,id=git-netrc', cwd).id).toBe('git-netrc');
  });

  test.each<[string, string, RegExp]>([
    ['no machine', 'login=l,password=env:P', /needs machine=/],
    ['no login', 'machine=h,password=env:P', /needs login=/],
    ['empty password', 'machine=h,login=l,password=', /needs password=/],
    ['machine with a space', 'machine=a b,login=l,password=env:P', /machine= must be a host name/],
    ['machine with #', 'machine=a#b,login=l,password=env:P', /must be a host name/],
    ['machine with a line break', '"machine=h\nmachine evil",login=l,password=env:P', /machine= must be a host name/],
    ['machine starting with a quote', '"machine=""h""",login=l,password=env:P', /must be a host name without spaces, "#", '"' or "\\"/],
    ['machine with a backslash', 'machine=a\\b,login=l,password=env:P', /must be a host name/],
    ['unknown key', 'machine=h,login=l,password=env:P,port=22', /unknown key "port"/],
    ['bad id', 'machine=h,login=l,password=env:P,id=.x', /secret id ".x"/],
    ['bad env name in password', 'machine=h,login=l,password=env:A-B', /password= env: the text after it is not a valid environment variable name/],
    ['unknown scheme in password', 'machine=h,login=l,password=gcp-sm:x', /password= is not a reference such as env:TOKEN/],
  ])('%s', (_name, value, message) => {
    const err = usageError(() => parseNetrcFlag(value, cwd));
    expect(err.message).toMatch(/^--netrc/);
    expect(err.message).toMatch(message);
  });

  test.each([
    ['a literal password', 'machine=h,login=l,password=S3cr3t+/=', 'S3cr3t+/='],
    ['a password split by a comma', 'machine=h,login=l,password=ab,cd-Secret', 'cd-Secret'],
  ])('%s is refused without being echoed', (_name, value, secret) => {
    const err = usageError(() => parseNetrcFlag(value, cwd));
    expect(err.message).not.toContain(secret);
  });
});

describe('parseNpmrcFlag', () => {
  test.each<[string, object]>([
    ['registry=https://npm.pkg.github.com/,token=env:NPM_TOKEN,scope=@acme',
      { registry: 'https://npm.pkg.github.com/', token: { kind: 'ref', ref: ref('env', 'NPM_TOKEN') }, scope: '@acme' }],
    ['registry=http://localhost:4873,token=npm_token',
      { registry: 'http://localhost:4873', token: { kind: 'secret', name: 'npm_token', at: '--npmrc token=' }, scope: undefined }],
    ['registry=https://r.example/npm/,token=keychain:npm/ci,scope=@My-Org.x',
      { registry: 'https://r.example/npm/', token: { kind: 'ref', ref: ref('keychain', 'npm/ci') }, scope: '@My-Org.x' }],
  ])('%s', (value, entry) => {
    expect(parseNpmrcFlag(value, cwd)).toEqual({ id: 'npmrc', entry });
  });

  test('id= names the file', () => {
    expect(parseNpmrcFlag('registry=https://r/,token=env:T,id=npmrc-ci', cwd).id).toBe('npmrc-ci');
  });

  test.each<[string, string, RegExp]>([
    ['no registry', 'token=env:T', /needs registry=/],
    ['no token', 'registry=https://r/', /needs token=/],
    ['registry not a URL', 'registry=npm.example.com,token=env:T', /registry="npm.example.com" is not a URL/],
    ['registry not http(s)', 'registry=ftp://r/,token=env:T', /registry="ftp:\/\/r\/" must be an http\(s\) URL/],
    ['scope without @', 'registry=https://r/,token=env:T,scope=acme', /scope="acme" must look like @my-org/],
    ['scope with a slash', 'registry=https://r/,token=env:T,scope=@a/b', /scope="@a\/b" must look like @my-org/],
    ['token a literal', 'registry=https://r/,token=abc+def', /token= is not a reference such as env:TOKEN nor the id of another secret/],
    ['unknown key', 'registry=https://r/,token=env:T,always-auth=true', /unknown key "always-auth"/],
  ])('%s', (_name, value, message) => {
    const err = usageError(() => parseNpmrcFlag(value, cwd));
    expect(err.message).toMatch(/^--npmrc/);
    expect(err.message).toMatch(message);
  });

  test.each([
    'registry=https://ci:TOK3N-Value@npm.example.com/,token=env:T',
    'registry=https://ci:TOK3N-Value@npm.example.com/',
    'registry=ci:TOK3N-Value@npm.example.com,token=env:T',
  ])('a registry URL with credentials is refused without echoing them: %s', (value) => {
    const err = usageError(() => parseNpmrcFlag(value, cwd));
    expect(err.message).not.toContain('TOK3N-Value');
  });
});

describe('groupEntries', () => {
  test('groups by id, keeps entry order and first-seen id order', () => {
    const specs = groupEntries('netrc', [
      { id: 'netrc', entry: 'a' },
      { id: 'other', entry: 'b' },
      { id: 'netrc', entry: 'c' },
    ]);
    expect(specs).toEqual([
      { kind: 'netrc', id: 'netrc', entries: ['a', 'c'], optional: false, mount: true, origin: '--netrc' },
      { kind: 'netrc', id: 'other', entries: ['b'], optional: false, mount: true, origin: '--netrc' },
    ]);
  });

  test('npmrc kind and origin; nothing in, nothing out', () => {
    expect(groupEntries('npmrc', [{ id: 'npmrc', entry: 1 }])).toMatchObject([{ kind: 'npmrc', origin: '--npmrc', entries: [1] }]);
    expect(groupEntries('npmrc', [])).toEqual([]);
  });
});

describe('parseNpmrcFlag: a line break cannot inject .npmrc lines (leak-paths item 6)', () => {
  test.each<[string, string, RegExp]>([
    ['LF in the registry', '"registry=https://r.example/\nnode-options=--require /tmp/INJECTED.js",token=env:T,scope=@acme', /the registry URL contains a line break/],
    ['CR in the registry', '"registry=https://r.example/\rregistry=https://INJECTED.example/",token=env:T,scope=@acme', /the registry URL contains a line break/],
    ['CRLF in the registry, no scope', '"registry=https://r.example/\r\n//INJECTED.example/:_authToken=x",token=env:T', /the registry URL contains a line break/],
    ['a tab in the registry', '"registry=https://r.example/\tINJECTED",token=env:T', /the registry URL contains a line break, a space or another control character/],
    ['NUL in the registry', '"registry=https://r.example/\0INJECTED",token=env:T', /control character/],
    ['a space in the registry', 'registry=https://r.example/ INJECTED,token=env:T', /a space/],
    ['LF in the scope', '"registry=https://r.example/",token=env:T,"scope=@acme\nregistry=https://INJECTED.example/"', /scope contains a line break/],
    ['CR in the scope', 'registry=https://r.example/,token=env:T,"scope=@acme\r//INJECTED/:_authToken=x"', /scope contains a line break/],
  ])('%s is refused, naming the field and echoing nothing', (_name, value, message) => {
    const err = usageError(() => parseNpmrcFlag(value, cwd));
    expect(err.message).toMatch(/^--npmrc: /);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('INJECTED');
    expect(err.message).not.toMatch(/[\r\n\t\0]/);
  });

  test.each([
    ['";" in the host', 'registry=https://r;x.example/,token=env:T', '";"'],
    ['"=" in the path', 'registry=https://r.example/a=b/,token=env:T', '"="'],
    ['"${" in the host', 'registry=https://r${X}.example/,token=env:T', '"${"'],
  ])('a registry whose .npmrc key npm would misread is refused: %s', (_name, value, char) => {
    const err = usageError(() => parseNpmrcFlag(value, cwd));
    expect(err.message).toContain(char);
    expect(err.message).toMatch(/cannot hold/);
  });
});

describe('--secret: quotes inside a cmd: command group, as the README says (leak-paths item 12)', () => {
  test.each<[string, string, string[], boolean]>([
    // What a user types: double quotes inside the command are kept for cmd:'s own word splitting.
    ['id=x,from=cmd:sh -c "printf x"', 'sh -c "printf x"', ['sh', '-c', 'printf x'], false],
    ['id=x,from=cmd:sh -c "printf a,b"', 'sh -c "printf a,b"', ['sh', '-c', 'printf a,b'], false],
    ['id=x,from=cmd:printf "%s|%s" "a b" c,optional', 'printf "%s|%s" "a b" c', ['printf', '%s|%s', 'a b', 'c'], true],
    ["id=x,from=cmd:sh -c 'printf x'", "sh -c 'printf x'", ['sh', '-c', 'printf x'], false],
    ['id=x,from=cmd:op read "op://vault/my item/token"', 'op read "op://vault/my item/token"', ['op', 'read', 'op://vault/my item/token'], false],
    // docker's CSV forms: a quoted field, "" for a quote inside it.
    ['id=x,"from=cmd:sh -c ""printf x"""', 'sh -c "printf x"', ['sh', '-c', 'printf x'], false],
    ['id=x,"from=cmd:sh -c \'printf a,b\'"', "sh -c 'printf a,b'", ['sh', '-c', 'printf a,b'], false],
    // A value quoted right after key=: the same rules as a quoted field.
    ['id=x,from="cmd:printf ""%s"" x,y"', 'printf "%s" x,y', ['printf', '%s', 'x,y'], false],
  ])('%s', (value, key, argv, optional) => {
    const spec = parseSecretFlag(value, {}, cwd);
    expect(spec).toMatchObject({ kind: 'ref', id: 'x', optional, ref: ref('cmd', key) });
    expect(splitCommand(key)).toEqual(argv);
  });

  test.each<[string, string]>([
    ['id=a,src=it\'s,env=X', 'either src= or env=, not both'],
    ['id=a,src=a"b', 'unterminated double quote'],
  ])('docker forms keep their meaning: %s', (value, message) => {
    expect(usageError(() => parseSecretFlag(value, {}, cwd)).message).toContain(message);
  });

  test('an apostrophe in a docker src= path is an ordinary character', () => {
    expect(parseSecretFlag("id=a,src=it's.txt", {}, cwd)).toMatchObject({ ref: ref('file', "it's.txt") });
  });

  test.each<[string, RegExp]>([
    ['id=x,from=cmd:sh -c "printf x', /unterminated double quote/],
    ['id=x,"from=cmd:x"y', /text after a closing double quote/],
    ['id=x,from="cmd:x"y', /text after a closing double quote/],
    ["id=x,from=cmd:sh -c 'printf a,b'", /a field is not a key=value pair \(to keep a comma in a value, quote the whole field/],
  ])('%s is refused with the fix', (value, message) => {
    const err = usageError(() => parseSecretFlag(value, {}, cwd));
    expect(err.message).toMatch(/^--secret: /);
    expect(err.message).toMatch(message);
  });
});
