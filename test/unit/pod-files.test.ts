// The pod's view of its mounted files (scripts/deploy/pod-files.ts): mode, owner and group as the
// kubelet sets them (defaultMode, items[].mode, fsGroup), the process's uid and groups, and Unix read
// permission. The deployment.yaml of before issue 25 (uid 1000, no fsGroup, Secret 0400) fails it.
// When run as root with setpriv (util-linux), the permission model is checked against the kernel: the
// same files created with those modes and owners, read as those users.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseManifests } from '../../scripts/deploy/helm.js';
import { canRead, octal, podFileAccess, processIdentity, type PodSpec, type ProcessIdentity } from '../../scripts/deploy/pod-files.js';
import { repoRoot } from '../../scripts/stack/layout.js';

const container = (extra: Record<string, unknown> = {}) => ({
  name: 'app',
  volumeMounts: [{ name: 'secrets', mountPath: '/var/run/secrets/app' }],
  ...extra,
});
const secretPod = (secret: Record<string, unknown>, securityContext: PodSpec['securityContext'] = { runAsUser: 1000, runAsGroup: 1000 }, extra: Record<string, unknown> = {}): PodSpec => ({
  securityContext,
  containers: [container(extra)],
  volumes: [{ name: 'secrets', secret: { secretName: 's', ...secret } }],
});
const only = (pod: PodSpec, keysOf?: (source: string) => string[] | undefined) => {
  const files = podFileAccess(pod, { keysOf });
  assert.equal(files.length, 1, JSON.stringify(files));
  return files[0]!;
};

describe('pod files: what the kubelet sets up', () => {
  it('defaultMode 0400 without fsGroup: root:root, and uid 1000 cannot read it (the bug of issue 25)', () => {
    const file = only(secretPod({ defaultMode: 0o400 }));
    assert.deepEqual([octal(file.mode), file.uid, file.gid, file.readable], ['0400', 0, 0, false]);
    assert.match(file.why, /other bits of 0400 \(uid 1000 is not the owner 0, not in group 0/);
  });

  it('fsGroup: the group becomes fsGroup and the mode gains 0440 (read-only volumes), so 0400 turns 0440', () => {
    const file = only(secretPod({ defaultMode: 0o400 }, { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 }));
    assert.deepEqual([octal(file.mode), file.uid, file.gid, file.readable], ['0440', 0, 2000, true]);
    assert.match(file.why, /group bits of 0440 \(uid 1000 is in group 2000\)/);
  });

  it('no defaultMode: 0644, readable by anyone', () => {
    const file = only(secretPod({}));
    assert.deepEqual([octal(file.mode), file.readable], ['0644', true]);
  });

  it('items[].mode wins over defaultMode; only the listed keys are files', () => {
    const pod = secretPod({ defaultMode: 0o444, items: [{ key: 'password', path: 'pw', mode: 0o400 }, { key: 'user', path: 'sub/user' }] });
    const files = podFileAccess(pod);
    assert.deepEqual(
      files.map((f) => [f.key, f.path, octal(f.mode), f.readable]),
      [
        ['password', '/var/run/secrets/app/pw', '0400', false],
        ['user', '/var/run/secrets/app/sub/user', '0444', true],
      ],
    );
  });

  it('without items, every key of the Secret when known (one * entry when not)', () => {
    const pod = secretPod({ defaultMode: 0o440 }, { runAsUser: 1000, fsGroup: 1000 });
    assert.deepEqual(podFileAccess(pod).map((f) => f.path), ['/var/run/secrets/app/*']);
    assert.deepEqual(podFileAccess(pod, { keysOf: (s) => (s === 'secret/s' ? ['a', 'b'] : undefined) }).map((f) => f.path), ['/var/run/secrets/app/a', '/var/run/secrets/app/b']);
  });

  it('a group of the process that owns the file: runAsGroup 0 or supplementalGroups [0] read a 0440 root:root file', () => {
    assert.equal(only(secretPod({ defaultMode: 0o440 }, { runAsUser: 1000, runAsGroup: 0 })).readable, true);
    assert.equal(only(secretPod({ defaultMode: 0o440 }, { runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [0] })).readable, true);
    assert.equal(only(secretPod({ defaultMode: 0o440 }, { runAsUser: 1000, runAsGroup: 1000 })).readable, false);
  });

  it("the container's securityContext wins over the pod's; root reads anything unless it drops DAC_OVERRIDE", () => {
    const pod = secretPod({ defaultMode: 0o400 }, { runAsUser: 1000 }, { securityContext: { runAsUser: 0 } });
    assert.equal(only(pod).readable, true);
    assert.match(only(pod).why, /CAP_DAC_OVERRIDE/);
    const dropped = secretPod({ defaultMode: 0o000 }, { runAsUser: 1000 }, { securityContext: { runAsUser: 0, capabilities: { drop: ['ALL'] } } });
    assert.deepEqual([only(dropped).readable, only(dropped).why], [false, 'owner bits of 0000 (uid 0 owns it)']);
  });

  it('without runAsUser the image decides: not provable from the spec, unless the image user is given', () => {
    const pod = secretPod({ defaultMode: 0o440 }, { fsGroup: 1000 });
    assert.equal(only(pod).readable, false);
    assert.match(only(pod).why, /runAsUser is not set/);
    assert.equal(podFileAccess(pod, { image: { uid: 1000, gid: 1000 } })[0]!.readable, true);
  });

  it('projected volumes (secret and configMap sources) and subPath mounts', () => {
    const pod: PodSpec = {
      securityContext: { runAsUser: 1000, runAsGroup: 1000 },
      containers: [
        {
          name: 'app',
          volumeMounts: [
            { name: 'all', mountPath: '/etc/all' },
            { name: 'one', mountPath: '/etc/app/ca.pem', subPath: 'ca.pem' },
          ],
        },
      ],
      volumes: [
        { name: 'all', projected: { defaultMode: 0o400, sources: [{ secret: { name: 'creds', items: [{ key: 'k', path: 'k' }] } }, { configMap: { name: 'cm', items: [{ key: 'c', path: 'c', mode: 0o444 }] } }] } },
        { name: 'one', secret: { secretName: 'tls', items: [{ key: 'ca.crt', path: 'ca.pem' }, { key: 'tls.key', path: 'key.pem' }] } },
      ],
    };
    assert.deepEqual(
      podFileAccess(pod).map((f) => [f.source, f.path, octal(f.mode), f.readable]),
      [
        ['secret/creds', '/etc/all/k', '0400', false],
        ['configMap/cm', '/etc/all/c', '0444', true],
        ['secret/tls', '/etc/app/ca.pem', '0644', true],
      ],
    );
  });

  it('processIdentity: uid, gid, and the groups fsGroup and supplementalGroups add', () => {
    const pod: PodSpec = { securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 3000, supplementalGroups: [4000, 1000] } };
    assert.deepEqual(processIdentity(pod, { name: 'c' }), { uid: 1000, gid: 1000, groups: [1000, 3000, 4000], dacOverride: false });
  });

  it('Kubernetes YAML is 1.1: defaultMode 0440 is octal (decimal 440 in YAML 1.2)', () => {
    const [resource] = parseManifests('defaultMode: 0440\n');
    assert.equal(resource!.defaultMode, 0o440);
  });

  it('the deployment.yaml of before issue 25 fails: its user cannot read the mounted Secret', () => {
    const fixture = path.join(repoRoot, 'test', 'unit', 'fixtures', 'deployment-before-issue-25.yaml');
    const [deployment] = parseManifests(readFileSync(fixture, 'utf8'));
    const files = podFileAccess(deployment!.spec.template.spec as PodSpec);
    const secret = files.find((f) => f.source === 'secret/kafka-to-elastic-secrets')!;
    assert.deepEqual([secret.path, octal(secret.mode), secret.uid, secret.gid, secret.readable], ['/var/run/secrets/kafka-to-elastic/*', '0400', 0, 0, false]);
    // The config (ConfigMap, default 0644) was readable: only the Secret was not.
    assert.equal(files.find((f) => f.source === 'configMap/kafka-to-elastic-config')!.readable, true);
  });
});

// The kernel agrees with canRead: real files with these modes and owners, read as these users.
const asRoot = process.getuid?.() === 0;
const setpriv = spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status === 0;
describe('pod files: the permission model against the kernel', { skip: asRoot && setpriv ? false : 'needs root and setpriv (util-linux) to create files for other users and read as them' }, () => {
  it('canRead matches what a process with those ids may open', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-pod-files-'));
    chmodSync(dir, 0o755);
    try {
      const files = [
        { mode: 0o400, uid: 0, gid: 0 },
        { mode: 0o440, uid: 0, gid: 0 },
        { mode: 0o440, uid: 0, gid: 1000 },
        { mode: 0o444, uid: 0, gid: 0 },
        { mode: 0o404, uid: 1000, gid: 0 },
        { mode: 0o040, uid: 1000, gid: 1000 },
        { mode: 0o004, uid: 0, gid: 2000 },
      ];
      const who: ProcessIdentity[] = [
        { uid: 1000, gid: 1000, groups: [1000], dacOverride: false },
        { uid: 1000, gid: 1000, groups: [1000, 0], dacOverride: false },
        { uid: 1001, gid: 1001, groups: [1001, 2000], dacOverride: false },
      ];
      let checked = 0;
      for (const [i, file] of files.entries()) {
        const p = path.join(dir, `f${i}`);
        writeFileSync(p, 'secret');
        chownSync(p, file.uid, file.gid);
        chmodSync(p, file.mode);
        for (const w of who) {
          const read = spawnSync('setpriv', [`--reuid=${w.uid}`, `--regid=${w.gid}`, `--groups=${w.groups.join(',')}`, '--inh-caps=-all', '--bounding-set=-all', 'cat', p], { encoding: 'utf8' });
          const kernel = read.status === 0 && read.stdout === 'secret';
          assert.equal(canRead(w, file).readable, kernel, `${octal(file.mode)} ${file.uid}:${file.gid} as uid ${w.uid} groups ${w.groups.join(',')}: kernel says ${kernel} (${read.stderr.trim()})`);
          checked += 1;
        }
      }
      assert.equal(checked, files.length * who.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
