/**
 * `secbuild run` and `secbuild compose up/down` without a daemon: a remote
 * daemon is refused before any secret resolves (a `cmd:` reference that
 * would leave a mark is never run), and --dry-run prints the docker run argv
 * and the override's shape — paths, never values — and starts no docker run.
 * The fake docker only answers Compose's version probe and records calls
 * (argv only). The real docker and Compose: test/e2e/run-secrets.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { listDir, nonce, runCli, sandbox, startCli, tree, waitFor } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

/** A secret's owner when the compose file names none: Compose's uid 0 / gid 0 as root, the user's own otherwise (only root can give a file away). */
const UID = process.getuid?.() ?? 0;
const GID = process.getgid?.() ?? 0;

describe('secbuild run / compose up: remote daemons and dry runs (fake docker: argv only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const project = tree({ 'compose.yaml': 'services:\n  app:\n    image: x\n    secrets:\n      - source: db\n        target: /etc/app/db\n        uid: "1000"\n        mode: 0400\nsecrets:\n  db:\n    environment: DB_PASSWORD\n' });
  afterAll(() => {
    project.cleanup();
    box.cleanup();
  });
  const value = `cli-${nonce()}-value`;

  test.each<[string, string[], string]>([
    ['run, DOCKER_HOST=ssh://', ['run', '--rm', 'app'], 'ssh://me@build-host'],
    ['run, DOCKER_HOST=tcp://', ['run', 'app'], 'tcp://10.0.0.5:2376'],
    ['compose up, DOCKER_HOST=tcp://', ['compose', 'up'], 'tcp://10.0.0.5:2376'],
  ])('%s is refused in one line naming the alternative, before any secret resolves', async (_n, argv, host) => {
    const mark = join(box.dir, `resolved-${nonce()}`);
    const rec = fake.record({ DOCKER_HOST: host, MARK: mark });
    const r = await runCli([...argv.slice(0, argv[0] === 'compose' ? 2 : 1), '--secret', `id=db,from=cmd:touch ${mark}; echo v`, ...argv.slice(argv[0] === 'compose' ? 2 : 1)], { env: rec.env, cwd: project.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`mounts secrets from a tmpfs file on this machine, which the daemon at ${host.replaceAll('.', '\\.')} \\(DOCKER_HOST\\) cannot see; run secbuild on the daemon's machine, or use a Swarm secret there`));
    // One line says both what cannot work and what to do instead.
    expect(r.stderr.split('\n').filter((l) => l.includes('cannot see'))[0]).toMatch(/cannot see; .*Swarm secret/);
    expect(existsSync(mark)).toBe(false);
    expect(rec.runs()).toEqual([]);
  });

  test('run under the Docker Desktop context (a fake DOCKER_CONFIG) is refused in one line, before any secret resolves', async () => {
    const cfg = tree({
      'config.json': JSON.stringify({ currentContext: 'desktop-linux' }),
      [`contexts/meta/${createHash('sha256').update('desktop-linux').digest('hex')}/meta.json`]: JSON.stringify({ Name: 'desktop-linux', Endpoints: { docker: { Host: 'unix:///home/me/.docker/desktop/docker.sock' } } }),
    });
    try {
      const mark = join(box.dir, `resolved-${nonce()}`);
      const rec = fake.record({ DOCKER_CONFIG: cfg.dir });
      delete rec.env.DOCKER_HOST;
      const r = await runCli(['run', '--secret', `id=db,from=cmd:touch ${mark}; echo v`, '--rm', 'app'], { env: rec.env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/Docker Desktop's daemon at unix:\/\/\/home\/me\/\.docker\/desktop\/docker\.sock \(docker context "desktop-linux".*cannot see \(it runs in a VM\); use Docker Engine on this machine/);
      expect(existsSync(mark)).toBe(false);
      expect(rec.runs()).toEqual([]);
    } finally {
      cfg.cleanup();
    }
  });

  test('run --dry-run: the docker run argv with read-only mounts of the run directory\'s files, never the value; nothing written, docker not run', async () => {
    const rec = fake.record({ DB_PASSWORD: value });
    const r = await runCli(['run', '--dry-run', '--secret', 'id=db,from=env:DB_PASSWORD', '-d', '--name', 'api', 'app:1', 'serve'], { env: rec.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${fake.path} run --cidfile ${box.tmp}/secbuild-\\d+-XXXXXX/cid --mount type=bind,src=${box.tmp}/secbuild-\\d+-XXXXXX/00-db,dst=/run/secrets/db,readonly -d --name api app:1 serve$`, 'm'));
    expect(r.stdout).toMatch(/then: a keeper holds .* until the container is removed/);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('run --dry-run shows each secret file\'s owner and mode (uid=, gid=, mode=); build refuses those fields (exit 2)', async () => {
    const rec = fake.record({ DB_PASSWORD: value });
    const r = await runCli(['run', '--dry-run', '--secret', 'id=db,from=env:DB_PASSWORD,uid=1000,mode=0400', '--secret', 'id=k,from=env:DB_PASSWORD', 'app:1'], { env: rec.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}secret db: .*\/secbuild-\d+-XXXXXX\/00-db, uid 1000, gid \d+, mode 0400$/m);
    expect(r.stdout).toMatch(/^ {2}secret k: .*\/01-k, uid \d+, gid \d+, mode 0600$/m);
    expect(r.stdout + r.stderr).not.toContain(value);
    const b = await runCli(['build', '--dry-run', '--secret', 'id=db,from=env:DB_PASSWORD,uid=1000', '.'], { env: rec.env, cwd: project.dir });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/uid=, gid= and mode= are for secbuild run/);
    expect(rec.runs()).toEqual([]);
  });

  test('compose up --dry-run: the override\'s shape (paths, uid/gid/mode), never the value; nothing written, compose not run', async () => {
    const rec = fake.record({ DB_PASSWORD: value });
    const r = await runCli(['compose', 'up', '--dry-run', '-d'], { env: rec.env, cwd: project.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`secret db: .*/secbuild-\\d+-XXXXXX/00-db, uid 1000, gid ${GID}, mode 0400`));
    expect(r.stdout).toMatch(/"db": !override \{\n\s+"file": ".*\/00-db"/);
    expect(r.stdout).toMatch(/ compose -f .*compose\.yaml -f .*\/00-compose-override up -d$/m);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('compose up: a file: secret that is a FIFO without a writer (recorded by a fake docker) is waited for, and SIGINT still ends secbuild (exit 130)', async () => {
    const t = tree({ 'compose.yaml': 'services:\n  app:\n    image: app:1\n    secrets: [db]\nsecrets:\n  db:\n    file: ./fifo\n' });
    execFileSync('mkfifo', [join(t.dir, 'fifo')]);
    try {
      const rec = fake.record({});
      const { child, done } = startCli(['compose', 'up', '--dry-run'], { env: rec.env, cwd: t.dir });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      await waitFor('secbuild to wait for the FIFO', () => err.includes('resolving secret db'), 10_000, 50);
      await new Promise((res) => setTimeout(res, 300));
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const r = await done;
      clearTimeout(killer);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(130);
      expect(rec.runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  test('compose up SERVICE --dry-run: a dependency Compose starts too (depends_on) gets its secret from secbuild; extends and include: are refused (exit 2)', async () => {
    const t = tree({
      'compose.yaml': 'services:\n  db:\n    image: db:1\n    secrets: [dbpw]\n  app:\n    image: app:1\n    depends_on: { db: { condition: service_started } }\nsecrets:\n  dbpw:\n    environment: DB_PASSWORD\n',
      'include.yaml': 'include:\n  - compose.yaml\nservices:\n  web:\n    image: app:1\n',
      'extends.yaml': 'services:\n  base:\n    image: app:1\n    secrets: [dbpw]\n  app:\n    extends: { service: base }\nsecrets:\n  dbpw:\n    environment: DB_PASSWORD\n',
    });
    try {
      const rec = fake.record({ DB_PASSWORD: value });
      const r = await runCli(['compose', 'up', '--dry-run', 'app'], { env: rec.env, cwd: t.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`secret dbpw: .*/00-dbpw, uid ${UID}, gid ${GID}, mode 0444`));
      expect(r.stdout).toMatch(/"dbpw": !override \{\n\s+"file": ".*\/00-dbpw"/);
      const noDeps = await runCli(['compose', 'up', '--dry-run', '--no-deps', 'app'], { env: rec.env, cwd: t.dir });
      expect(noDeps.code, noDeps.stderr).toBe(0);
      expect(noDeps.stdout).not.toContain('secret dbpw');
      const ext = await runCli(['compose', '-f', 'extends.yaml', 'up', '--dry-run', 'app'], { env: rec.env, cwd: t.dir });
      expect(ext.code).toBe(2);
      expect(ext.stderr).toMatch(/services\.app\.extends is not supported by secbuild compose up/);
      const inc = await runCli(['compose', '-f', 'include.yaml', 'up', '--dry-run'], { env: rec.env, cwd: t.dir });
      expect(inc.code).toBe(2);
      expect(inc.stderr).toMatch(/include: is not supported by secbuild compose up/);
      expect(r.stdout + r.stderr + ext.stdout + ext.stderr).not.toContain(value);
      expect(rec.runs()).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  test('compose up --dry-run: a service secret that is secbuild.yml\'s rendered .netrc resolves with its input (the token), never shown', async () => {
    const t = tree({
      'compose.yaml': 'services:\n  app:\n    image: app:1\n    secrets: [netrc]\n',
      'secbuild.yml': 'secrets:\n  gh: { from: env:GH }\nnetrc:\n  - { machine: github.com, login: x, password: gh }\n',
    });
    try {
      const rec = fake.record({ GH: value });
      const r = await runCli(['compose', 'up', '--dry-run'], { env: rec.env, cwd: t.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`secret netrc: .*/secbuild-\\d+-XXXXXX/\\d+-netrc, uid ${UID}, gid ${GID}, mode 0444`));
      expect(r.stdout + r.stderr).not.toContain(value);
      expect(rec.runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  test('run -e VAR=VALUE / --env-file / --label carrying a secret is refused (exit 4) like a build-arg, pointing at --secret; docker not run', async () => {
    const t = tree({ 'app.env': `A=1\nPW=${value}\n` });
    try {
      for (const flags of [['-e', `PW=${value}`], ['--env-file', join(t.dir, 'app.env')], ['--label', `pw=${value}`], ['-e', 'DB_PASSWORD']]) {
        const rec = fake.record({ DB_PASSWORD: value });
        const r = await runCli(['run', '--secret', 'id=db,from=env:DB_PASSWORD', '--rm', ...flags, 'app:1'], { env: rec.env });
        expect(r.code, `${flags[0]}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toMatch(/carries secret "db" \(env:DB_PASSWORD\); it would be recorded in the container's config \(docker inspect\)\. Give it to the container as a file instead: --secret id=db,from=env:DB_PASSWORD, read in the container at \/run\/secrets\/db/);
        expect(r.stdout + r.stderr).not.toContain(value);
        expect(rec.runs()).toEqual([]);
      }
    } finally {
      t.cleanup();
    }
  });

  test('compose up: a service\'s literal environment:/labels: value carrying a secret is refused (exit 4); compose not run', async () => {
    const t = tree({ 'compose.yaml': `services:\n  app:\n    image: x\n    environment:\n      PW: "${value}"\n    labels:\n      pw: "${value}"\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n` });
    try {
      const rec = fake.record({ DB_PASSWORD: value });
      const r = await runCli(['compose', 'up'], { env: rec.env, cwd: t.dir });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/services\.app\.environment\.PW carries secret "db" .*docker inspect.*\/run\/secrets\/db/);
      expect(r.stderr).toMatch(/services\.app\.labels\.pw carries secret "db"/);
      expect(r.stderr).not.toContain(value);
      expect(rec.calls().filter((c) => !c.startsWith('version') && !c.startsWith('compose version'))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  test('compose up: a service\'s env_file: line carrying a secret is refused (exit 4); compose not run', async () => {
    const t = tree({ 'compose.yaml': 'services:\n  app:\n    image: x\n    env_file: [app.env]\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n', 'app.env': `A=1\nPW='${value}'\n` });
    try {
      const rec = fake.record({ DB_PASSWORD: value });
      const r = await runCli(['compose', 'up'], { env: rec.env, cwd: t.dir });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/services\.app\.env_file\[0\]\.PW carries secret "db" .*docker inspect/);
      expect(r.stderr).not.toContain(value);
      expect(rec.calls().filter((c) => !c.startsWith('version') && !c.startsWith('compose version'))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  test('compose up: a service value interpolated from a secret\'s variable is refused (it would be in docker inspect)', async () => {
    const t = tree({ 'compose.yaml': 'services:\n  app:\n    image: x\n    environment:\n      PW: ${DB_PASSWORD}\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n' });
    try {
      const rec = fake.record({ DB_PASSWORD: value });
      const r = await runCli(['compose', 'up'], { env: rec.env, cwd: t.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/services\.app\.environment\.PW is interpolated from \$DB_PASSWORD/);
      expect(r.stderr).not.toContain(value);
    } finally {
      t.cleanup();
    }
  });
});
