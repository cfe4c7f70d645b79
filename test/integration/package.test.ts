// The installable package (README, "Installing it"): `npm pack` holds only what runs, and the tarball
// installed into an empty prefix with a clean HOME (dependencies from the registry, none of the
// checkout's node_modules) answers --version, checks a configuration and indexes records produced here,
// run from an empty folder. The tarball is packed from the build `npm test` just made (--ignore-scripts:
// `npm pack` itself would rebuild dist/ under the running suite; its prepack/prepare do that for users).
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, groupCommittedOffsets, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments, refreshAndCount } from '../helpers/search.js';
import { waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { skipUnless, which } from '../helpers/tools.js';

const npm = which('npm');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const engine = stack.engines[0]!;

/** What the package may hold: the compiled service, the bin, the status page, the demo's examples. */
const ALLOWED = [/^bin\/kafka-to-elastic\.js$/, /^dist\/src\/.+\.js$/, /^assets\/[^/]+$/, /^examples\/.+$/, /^package\.json$/, /^README\.md$/, /^LICENSE(\..+)?$/];

/** Every .ts under dir, relative to it. */
function sources(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) return sources(dir, rel);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [rel] : [];
  });
}

describe('the installed package', { skip: skipUnless(npm, 'npm') }, () => {
  let work: string;
  /** No npm_* variables of the `npm test` running us (they name the checkout's config and cache), no K2E_*. */
  let env: NodeJS.ProcessEnv;
  let tarball: string;
  let files: string[];
  let prefix: string;
  let emptyDir: string;

  const sh = (command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> =>
    spawnSync(command, args, { cwd: options.cwd ?? emptyDir, env: options.env ?? env, encoding: 'utf8', timeout: options.timeout ?? 60_000 });
  const output = (r: SpawnSyncReturns<string>): string => `exit ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`.slice(-4000);

  before(() => {
    work = realpathSync(mkdtempSync(path.join(tmpdir(), 'k2e-package-')));
    const home = path.join(work, 'home');
    prefix = path.join(work, 'prefix');
    emptyDir = path.join(work, 'empty');
    for (const dir of [home, prefix, emptyDir]) mkdirSync(dir);
    env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|K2E_)/i.test(key)));
    // The installed bin runs on this test's node (#!/usr/bin/env node), from the prefix's bin folder.
    env.PATH = [path.join(prefix, 'bin'), path.dirname(process.execPath), process.env.PATH].join(path.delimiter);
    env.HOME = home;

    const packed = sh(npm!, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot });
    assert.equal(packed.status, 0, output(packed));
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    files = info!.files.map((f) => f.path).sort();
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds only what runs: every compiled source, the bin, the status page, the examples', () => {
    const stray = files.filter((file) => !ALLOWED.some((re) => re.test(file)));
    assert.deepEqual(stray, [], `files that do not run: ${stray.join(', ')}`);
    const missing = sources(path.join(repoRoot, 'src'))
      .map((ts) => `dist/src/${ts.replace(/\.ts$/, '.js')}`)
      .filter((js) => !files.includes(js));
    assert.deepEqual(missing, [], `compiled sources missing from the package (build first): ${missing.join(', ')}`);
    for (const file of ['bin/kafka-to-elastic.js', 'dist/src/cli/main.js', 'assets/status-page.html', 'examples/twitter/twitter-avro-model.avsc', 'package.json', 'README.md']) {
      assert.ok(files.includes(file), `${file} is not in the package`);
    }
  });

  it('installs with npm install -g into an empty prefix and runs from an empty folder', { timeout: 300_000 }, async () => {
    const install = sh(npm!, ['install', '-g', tarball, '--prefix', prefix, '--no-audit', '--no-fund', '--no-update-notifier'], { timeout: 240_000 });
    assert.equal(install.status, 0, output(install));
    const installed = path.join(prefix, 'lib', 'node_modules', pkg.name);
    // Production dependencies only: the compiler and test tools of the checkout are not there.
    assert.ok(existsSync(path.join(installed, 'node_modules', '@platformatic', 'kafka')), 'the Kafka client was not installed');
    assert.ok(!existsSync(path.join(installed, 'node_modules', 'typescript')), 'a devDependency was installed');

    const version = sh('kafka-to-elastic', ['--version']);
    assert.equal(version.status, 0, output(version));
    assert.ok(version.stdout.includes(pkg.version), output(version));

    const topic = uniqueName('package');
    const groupId = uniqueName('package-group');
    const serviceEnv: NodeJS.ProcessEnv = {
      ...env,
      K2E_BROKERS: brokers,
      K2E_TOPICS: topic,
      K2E_GROUP_ID: groupId,
      K2E_ELASTIC_URL: engine.url,
      K2E_INDEX: topic,
      K2E_DOCUMENT_ID: 'field:id',
      K2E_HTTP_PORT: '0',
      K2E_LOG_LEVEL: 'info',
      ...(stack.registry ? { K2E_FORMAT: 'avro', K2E_SCHEMA_REGISTRY_URL: stack.registry } : {}),
    };
    const check = sh('kafka-to-elastic', ['config', 'check'], { env: serviceEnv });
    assert.equal(check.status, 0, output(check));
    const effective = JSON.parse(check.stdout) as { kafka: { topics: string[] }; elastic: { index: string } };
    assert.deepEqual(effective.kafka.topics, [topic]);
    assert.equal(effective.elastic.index, topic);

    // The demo producer reads its Avro schema from the package's examples/.
    await createTopic(topic, 2);
    const format = stack.registry ? 'avro' : 'json';
    const produced = sh('kafka-to-elastic', ['demo', 'produce', '--format', format, '--count', '40', '--rate', '400', '--topic', topic, '--brokers', brokers, ...(stack.registry ? ['--registry', stack.registry] : [])]);
    assert.equal(produced.status, 0, output(produced));
    const ends = await topicEndOffsets(topic);
    assert.equal([...ends.values()].reduce((a, b) => a + b, 0n), 40n);

    const child = spawn('kafka-to-elastic', ['run'], { cwd: emptyDir, env: serviceEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    try {
      const indexed = await waitFor(async () => (await refreshAndCount(engine.url, topic)) === 40, 90_000, 250);
      assert.ok(indexed, `not every record was indexed:\n${log.slice(-3000)}`);
      assert.ok(await untilCommittedToEnd(groupId, topic), `offsets not committed to the end:\n${log.slice(-3000)}`);
      // The status page is read from the package's assets/.
      const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(log)?.[1];
      assert.ok(port, `no http port in the log:\n${log.slice(-3000)}`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `the service did not stop cleanly:\n${log.slice(-3000)}`);

    assert.deepEqual(await groupCommittedOffsets(groupId, topic), ends);
    const docs = await allDocuments(engine.url, topic);
    assert.equal(docs.size, 40);
    for (const [id, doc] of docs) {
      assert.equal(String(doc.id), id);
      assert.equal(typeof doc.text, 'string');
    }
  });
});
