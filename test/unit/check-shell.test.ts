import { describe, expect, test } from 'vitest';
import { mentions, parseScript, secretWrites } from '../../src/check/shell.js';

const S = '/run/secrets/npm';

describe('parseScript', () => {
  test.each<[string, string, { words: string[]; redirects: { op: string; target: string }[] }[][]]>([
    ['words and quotes', `cp "a b" 'c d' e\\ f`, [[{ words: ['cp', 'a b', 'c d', 'e f'], redirects: [] }]]],
    ['lists and pipes', 'a && b || c; d | e & f', [[{ words: ['a'], redirects: [] }], [{ words: ['b'], redirects: [] }], [{ words: ['c'], redirects: [] }], [{ words: ['d'], redirects: [] }, { words: ['e'], redirects: [] }], [{ words: ['f'], redirects: [] }]]],
    ['redirections with and without fd', 'cat x >f 2>>g 2>&1 <in &>all', [[{ words: ['cat', 'x'], redirects: [{ op: '>', target: 'f' }, { op: '2>>', target: 'g' }, { op: '2>&', target: '1' }, { op: '<', target: 'in' }, { op: '&>', target: 'all' }] }]]],
    ['command substitution stays one word', 'echo "t=$(cat /a | tr -d x)" > f', [[{ words: ['echo', 't=$(cat /a | tr -d x)'], redirects: [{ op: '>', target: 'f' }] }]]],
    ['line continuation and comments', 'a \\\n  b # c > d\ne', [[{ words: ['a', 'b'], redirects: [] }], [{ words: ['e'], redirects: [] }]]],
    ['${VAR} is part of a word; braces group', '{ echo ${HOME}/x; }', [[{ words: ['echo', '${HOME}/x'], redirects: [] }]]],
    ['a redirection without a target is dropped', 'cat x >; echo y', [[{ words: ['cat', 'x'], redirects: [] }], [{ words: ['echo', 'y'], redirects: [] }]]],
    ['unbalanced quote ends at the end', `echo "abc`, [[{ words: ['echo', 'abc'], redirects: [] }]]],
  ])('%s', (_name, script, want) => {
    expect(parseScript(script)).toEqual(want);
  });
});

describe('mentions: a whole path, not a prefix', () => {
  test.each<[string, boolean]>([
    [S, true],
    [`$(cat ${S})`, true],
    [`--userconfig=${S}`, true],
    [`${S}-old`, false],
    [`${S}/x`, false],
    [`/x${S}`, false],
    [`a${S}`, false],
  ])('%s', (text, want) => {
    expect(mentions(text, S)).toBe(want);
  });
});

describe('secretWrites', () => {
  const dests = (script: string, scratch: string[] = [], secrets = [S]) => secretWrites(script, secrets, scratch).map((w) => w.dest);
  test.each<[string, string, string[]]>([
    ['cp into the image', `cp ${S} /app/.npmrc`, ['/app/.npmrc']],
    ['cp with options, several sources', `cp -p /etc/a ${S} /app/`, ['/app/']],
    ['cp -t DIR', `cp -t /app ${S}`, ['/app']],
    ['install', `install -m 600 ${S} /root/.npmrc`, ['/root/.npmrc']],
    ['cat redirected', `cat ${S} > /root/.npmrc`, ['/root/.npmrc']],
    ['cat appended', `cat ${S} >> ~/.npmrc`, ['~/.npmrc']],
    ['relative destination counts (WORKDIR is not followed)', `cat ${S} > .npmrc`, ['.npmrc']],
    ['command substitution into a file', `echo "//r/:_authToken=$(cat ${S})" > /root/.npmrc`, ['/root/.npmrc']],
    ['input redirection', `base64 < ${S} > /b64`, ['/b64']],
    ['tee', `cat ${S} | tee -a /etc/npmrc >/dev/null`, ['/etc/npmrc']],
    ['quoted path', `cat "${S}" > '/x y'`, ['/x y']],
    ['/tmp is in the layer too', `cp ${S} /tmp/npmrc`, ['/tmp/npmrc']],
    ['exec-form words reach the same reader', `'cp' '${S}' '/app/x'`, ['/app/x']],
    ['heredoc body lines are commands', `<<EOF\ncp ${S} /app/x\nEOF`, ['/app/x']],
    ['several writes, each once', `cp ${S} /a && cp ${S} /a && cat ${S} > /b`, ['/a', '/b']],
    // not leaks
    ['read in place', `npm ci --userconfig ${S}`, []],
    ['/dev/shm', `cp ${S} /dev/shm/npmrc`, []],
    ['/dev/null and fd duplication', `cat ${S} > /dev/null 2>&1`, []],
    ['under a tmpfs mount of the RUN', `cp ${S} /tmp/npmrc`, []],
    ['removed later in the same RUN', `cp ${S} /root/.npmrc && npm ci && rm -f /root/.npmrc`, []],
    ['another file is written', `cat /etc/hosts > /x; cat ${S}`, []],
    ['a longer path is not the secret', `cp ${S}-old /app/x`, []],
    ['stderr only', `cat ${S} 2> /err.log`, []],
  ])('%s', (name, script, want) => {
    expect(dests(script, name.startsWith('under a tmpfs') ? ['/tmp'] : [])).toEqual(want);
  });

  test('removed before it is written does not count', () => {
    expect(dests(`rm -f /x; cp ${S} /x`)).toEqual(['/x']);
  });

  test('each secret path is matched on its own', () => {
    expect(secretWrites(`cp /run/secrets/a /x; cp /run/secrets/b /tmp/ok`, ['/run/secrets/a', '/run/secrets/b'], ['/tmp'])).toEqual([{ path: '/run/secrets/a', dest: '/x' }]);
  });
});
