// The command line's conventions (no servers: the commands here never reach a broker): the strict
// parser, help and exit codes at every level, --version, unknown commands, options, configuration keys
// and K2E_ variables with the closest known name, what union keys allow, and config check reading
// every file a setting names (relative paths in a config file resolved against its folder).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type Dirent, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { parseCommandArgs, UsageError } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';
import { checkEnvironment, ConfigError, loadConfig, loadReaderConfig } from '../../src/config/load.js';
import { CONFIG_KEYS, schemaAt } from '../../src/config/keys.js';
import { colorOutput } from '../../src/util/logger.js';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** The environment without the K2E_ variables of whoever runs the tests. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('K2E_')));
const cli = (args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
/** main() in this process (much faster than a child), its console output captured. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => void out.push(`${parts.join(' ')}\n`);
  console.error = (...parts: unknown[]) => void err.push(`${parts.join(' ')}\n`);
  try {
    return { code: await main(args), stdout: out.join(''), stderr: err.join('') };
  } finally {
    Object.assign(console, { log, error });
  }
}
const base = { K2E_TOPICS: 't', K2E_INDEX: 'd' };
const fails = (load: () => unknown, pattern: RegExp): void => {
  assert.throws(load, (e: Error) => e instanceof ConfigError && pattern.test(e.message), pattern.source);
};
const spec = { options: { config: { type: 'string' as const }, json: { type: 'boolean' as const } }, config: true };

describe('argument parser', () => {
  it('takes own options, and configuration flags in order as --key=value', () => {
    const parsed = parseCommandArgs(['--json', '--config', 'c.yaml', '--brokers', 'b:9092', '--kafka.groupId=g', '--batch.maxDocs', '5', '--logLevel=debug', '--kafka.tls'], spec);
    assert.deepEqual(parsed.values, { json: true, config: 'c.yaml' });
    assert.deepEqual(parsed.configFlags, ['--brokers=b:9092', '--kafka.groupId=g', '--batch.maxDocs=5', '--logLevel=debug', '--kafka.tls=true']);
    assert.equal(parseCommandArgs(['--kafka.tls', 'false'], spec).configFlags[0], '--kafka.tls=false');
  });

  it('refuses unknown options (with the closest), single-dash flags, positionals and missing values', () => {
    const refused = (args: string[], pattern: RegExp): void => assert.throws(() => parseCommandArgs(args, spec), (e: Error) => e instanceof UsageError && pattern.test(e.message), pattern.source);
    refused(['--jsn'], /^unknown option --jsn \(did you mean --json\?\)$/);
    refused(['--brokrs', 'x'], /did you mean --brokers\?/);
    refused(['-c', 'x.yaml'], /^unknown option -c$/);
    refused(['extra'], /^unexpected argument extra/);
    refused(['--config'], /^--config needs a value$/);
    refused(['--config', '--json'], /^--config needs a value/);
    refused(['--json=yes'], /^--json takes no value$/);
    refused(['--kafka.groupId'], /^--kafka.groupId needs a value$/);
    // No configuration flags for a command that reads no configuration.
    assert.throws(() => parseCommandArgs(['--brokers', 'x'], { options: {}, config: false }), /unknown option --brokers/);
  });

  it('help wins: -h and --help anywhere before --', () => {
    assert.equal(parseCommandArgs(['--bogus', '-h'], spec).help, true);
    assert.equal(parseCommandArgs(['--help'], spec).help, true);
  });
});

describe('command line', () => {
  it('-h and --help exit 0 at every level, with the exit-code table', async () => {
    const levels = [[], ['help'], ['run'], ['status'], ['lag'], ['replay'], ['config'], ['config', 'check'], ['demo'], ['demo', 'produce'], ['dlq'], ['dlq', 'summary'], ['dlq', 'show'], ['dlq', 'redrive'], ['help', 'lag']];
    for (const level of levels) {
      for (const flag of level[0] === 'help' ? [[]] : [['-h'], ['--help']]) {
        const { code, stdout, stderr } = await inProcess([...level, ...flag]);
        assert.equal(code, 0, `${[...level, ...flag].join(' ')}: ${stderr}`);
        assert.match(stdout, /usage: kafka-to-elastic/);
        assert.match(stdout, /exit codes:\n {2}0 .*\n {2}1 .*runtime.*\n {2}2 .*usage or configuration/, [...level, ...flag].join(' '));
      }
    }
  });

  it('--version prints package.json version', () => {
    const { code, stdout } = cli(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), version);
  });

  it('unknown commands, subcommands, options and positionals: exit 2 with the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['bogus'], /^unknown command "bogus"\n\nusage: kafka-to-elastic <command>/],
      [['lga'], /^unknown command "lga" \(did you mean lag\?\)/],
      [['config', 'chek'], /^unknown config subcommand "chek" \(did you mean check\?\)\n\nusage: kafka-to-elastic config check/],
      [['config', 'check', '-c', 'missing.yaml'], /^unknown option -c\n\nusage: kafka-to-elastic config check/],
      [['config', 'check', 'missing.yaml'], /^unexpected argument missing.yaml/],
      [['config', 'check', '--config'], /^--config needs a value\n/],
      [['lag', '--jsn'], /^unknown option --jsn \(did you mean --json\?\)\n\nusage: kafka-to-elastic lag/],
      [['dlq', 'show', '--limt', '3'], /^unknown option --limt \(did you mean --limit\?\)\n\nusage: kafka-to-elastic dlq show/],
      [['demo', 'produce', '--brokers'], /^--brokers needs a value/],
      [['demo', 'produce', '--count', 'many'], /^--count "many": expected a positive number/],
      [['status', '--url', 'not-a-url'], /^--url "not-a-url" is not a URL: expected http:\/\/host:port\n\nusage: kafka-to-elastic status/],
      [['replay', '--group', 'g'], /^choose exactly one of --to-earliest, --to-offset, --to-timestamp/],
      [[], /^no command given\n\nusage:/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr, stdout } = await inProcess(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, pattern, args.join(' '));
      assert.equal(stdout, '');
      assert.ok(!/\n\s+at /.test(stderr), `a stack trace for ${args.join(' ')}`);
    }
  });

  it('an unknown K2E_ variable is a configuration error with the closest name; K2E_TEST_* is left alone', () => {
    const { code, stderr } = cli(['config', 'check'], { ...base, K2E_BROKER: 'kafka:9092' });
    assert.equal(code, 2);
    assert.match(stderr, /K2E_BROKER: unknown environment variable \(did you mean K2E_BROKERS\?\)/);
    assert.equal(cli(['config', 'check'], { ...base, K2E_TEST_ANYTHING: '1' }).code, 0);
    assert.equal(cli(['demo', 'produce', '--count', '1'], { K2E_SCHEMA_REGISTY_URL: 'x' }).code, 2);
    fails(() => checkEnvironment({ K2E_GROUPID: 'g' }), /K2E_GROUPID: unknown environment variable \(did you mean K2E_GROUP_ID\?\)/);
    assert.doesNotThrow(() => checkEnvironment({ K2E_CONFIG: 'c.yaml', K2E_ELASTIC_PASSWORD_FILE: '/run/secrets/p', K2E_TEST_OUTAGE_SECONDS: '5', PATH: '/bin' }));
  });

  it('the scripts and tests set no K2E_ variable that is neither a setting nor K2E_TEST_*', () => {
    const names = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSafe(dir)) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        // (This file names wrong variables on purpose.)
        else if (/\.(ts|mjs|js|sh|ya?ml)$/.test(entry.name) && !entry.name.startsWith('cli.test.')) for (const m of readFileSync(full, 'utf8').matchAll(/\bK2E_[A-Z0-9_]+/g)) names.add(m[0]);
      }
    };
    for (const dir of ['test', 'scripts', 'bench', 'deploy', '.ci']) walk(path.join(repoRoot, dir));
    const env = Object.fromEntries([...names].filter((n) => !n.endsWith('_')).map((n) => [n, 'x']));
    assert.doesNotThrow(() => checkEnvironment(env));
  });
});

function readdirSafe(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

describe('configuration keys', () => {
  it('an unknown key from a flag or a file names the closest known key', () => {
    fails(() => loadConfig({ env: base, flags: ['--kafka.grupId=x'] }), /--kafka\.grupId: unknown key \(did you mean kafka\.groupId\?\)/);
    fails(() => loadConfig({ env: base, flags: ['--batch.maxDoc=5'] }), /did you mean batch\.maxDocs\?/);
    // Under a map keyed by data (topic names, header names), any key is taken.
    assert.equal(loadConfig({ env: base, flags: ['--elastic.headers.x-route=a'] }).elastic.headers?.['x-route'], 'a');
    assert.ok(CONFIG_KEYS.includes('elastic.passwordFile') && CONFIG_KEYS.includes('kafka.tls.caFile'));
  });

  it('every union-typed key names what it allows (never a bare "Invalid input")', () => {
    const unions = CONFIG_KEYS.filter((key) => schemaAt(key) instanceof z.ZodUnion);
    assert.ok(unions.length >= 7, unions.join(', '));
    for (const key of unions) {
      // A value no alternative takes: an object with a key no object alternative has.
      for (const bad of ['not-a-valid-value', -5]) {
        try {
          loadConfig({ env: base, flags: [`--${key}=${bad}`] });
        } catch (error) {
          const line = (error as Error).message.split('\n').find((l) => l.includes(`(${key})`));
          assert.ok(line, `${key}=${bad}: ${(error as Error).message}`);
          assert.ok(!/: Invalid input$/.test(line), `${key}=${bad}: ${line}`);
          continue;
        }
        // Accepted: a union that takes any text (errors.dlqHeaders: a list of header names).
      }
    }
    fails(() => loadConfig({ env: base, flags: ['--batch.maxInFlight=x'] }), /\(batch\.maxInFlight\) is "x": expected auto or a positive integer/);
    fails(() => loadConfig({ env: base, flags: ['--kafka.tls=maybe'] }), /\(kafka\.tls\) is "maybe": expected true, false or an object with caFile, certFile/);
    fails(() => loadConfig({ env: base, flags: ['--document.version=latest'] }), /expected auto, offset, timestamp, none, field:<path> or header:<name>/);
    fails(() => loadConfig({ env: base, flags: ['--document.id=uuid'] }), /expected key, coordinate, none or field:<path>/);
    // The object form with a wrong value inside: what is wrong inside, not the union's summary.
    fails(() => loadConfig({ env: base, flags: ['--kafka.tls.rejectUnauthorized=sometimes'] }), /\(kafka\.tls\.rejectUnauthorized\) is "sometimes": .*expected boolean/);
  });
});

describe('config check reads every file a setting names', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-cli-files-'));
  const write = (name: string, text: string): string => {
    const file = path.join(tmp, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  it('missing and non-JSON files: one line naming the setting, in config check and in run alike (exit 2)', () => {
    const notJson = write('index.json', '{ "settings": ');
    for (const command of [['config', 'check'], ['run']]) {
      const missing = cli([...command, `--elastic.indexDefinitionFile=${path.join(tmp, 'nope.json')}`], base);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /--elastic\.indexDefinitionFile \(elastic\.indexDefinitionFile\) is ".*nope\.json": cannot read it \(ENOENT\)/);
      const broken = cli([...command, `--elastic.templateFile=${notJson}`], base);
      assert.equal(broken.code, 2, broken.stderr);
      assert.match(broken.stderr, /--elastic\.templateFile \(elastic\.templateFile\) is ".*index\.json": not valid JSON/);
      assert.ok(!/\n\s+at /.test(missing.stderr + broken.stderr));
    }
    fails(() => loadConfig({ env: { ...base, K2E_FORMAT: 'avro' }, flags: ['--schemaRegistry.url=http://r:8081', `--decode.readerSchemaFile=${notJson}`] }), /\(decode\.readerSchemaFile\) .*not valid JSON/);
    fails(() => loadConfig({ env: base, flags: [`--kafka.tls.caFile=${notJson}`] }), /\(kafka\.tls\.caFile\) .*not a PEM file/);
    fails(() => loadConfig({ env: base, flags: ['--kafka.sasl.mechanism=OAUTHBEARER', `--kafka.sasl.tokenFile=${path.join(tmp, 'no-token')}`] }), /\(kafka\.sasl\.tokenFile\) .*cannot read it \(ENOENT\)/);
    fails(() => loadConfig({ env: { ...base, K2E_HTTP_TOKEN_FILE: path.join(tmp, 'no-http-token') } }), /K2E_HTTP_TOKEN_FILE \(http\.tokenFile\): cannot read/);
  });

  it('relative paths in a config file are relative to its folder; in flags and variables, to the working directory', () => {
    write('conf/definitions/index.json', '{"mappings":{}}');
    write('conf/secrets/password', 'hunter2\n');
    const config = write('conf/k2e.yaml', 'kafka: { topics: [t] }\nelastic:\n  index: d\n  indexDefinitionFile: definitions/index.json\n  username: u\n  passwordFile: ./secrets/password\n');
    const loaded = loadConfig({ file: config, env: {} });
    assert.equal(loaded.elastic.indexDefinitionFile, path.join(tmp, 'conf', 'definitions', 'index.json'));
    assert.equal(loaded.elastic.password, 'hunter2');
    // The same run from another working directory finds the same files.
    const elsewhere = spawnSync(process.execPath, [bin, 'config', 'check', '--config', path.relative(tmp, config)], { cwd: tmp, encoding: 'utf8', env: cleanEnv() });
    assert.equal(elsewhere.status, 0, elsewhere.stderr);
    // A flag's relative path is the working directory's.
    const byFlag = spawnSync(process.execPath, [bin, 'config', 'check', '--elastic.indexDefinitionFile=conf/definitions/index.json'], { cwd: tmp, encoding: 'utf8', env: { ...cleanEnv(), ...base } });
    assert.equal(byFlag.status, 0, byFlag.stderr);
    const notFromConf = spawnSync(process.execPath, [bin, 'config', 'check', '--elastic.indexDefinitionFile=definitions/index.json'], { cwd: tmp, encoding: 'utf8', env: { ...cleanEnv(), ...base } });
    assert.equal(notFromConf.status, 2);
  });

  it('dlq reading needs no kafka.topics or elastic.index', () => {
    assert.deepEqual(loadReaderConfig({ env: {} }).kafka.topics, []);
    fails(() => loadReaderConfig({ env: { K2E_KAFKA_SASL_MECHANISM: 'PLAIN' } }), /PLAIN needs kafka\.sasl\.username/);
  });
});

describe('colour', () => {
  it('only on a terminal, and never with NO_COLOR', () => {
    assert.equal(colorOutput({ isTTY: true }, {}), true);
    assert.equal(colorOutput({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorOutput({ isTTY: true }, { NO_COLOR: '' }), true);
    assert.equal(colorOutput({ isTTY: false }, {}), false);
    assert.equal(colorOutput({}, {}), false);
  });

  it('pretty logs without colour carry no ANSI escape', () => {
    // The logger writes to file descriptor 1: a child process shows what it wrote.
    const logger = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'util', 'logger.js')).href;
    const pretty = (color: boolean): string =>
      spawnSync(process.execPath, ['--input-type=module', '-e', `const { createLogger } = await import(${JSON.stringify(logger)}); createLogger('info', true, undefined, ${color}).warn({ n: 1 }, 'plain');`], { encoding: 'utf8' }).stdout;
    assert.match(pretty(false), /WARN.*plain/);
    assert.ok(!pretty(false).includes('\x1b['), JSON.stringify(pretty(false)));
    assert.ok(pretty(true).includes('\x1b['), 'with colour, the same line is coloured');
  });
});
