// The pod's view of the files Kubernetes mounts for it (Secret, ConfigMap and projected volumes),
// computed from the pod spec alone, and whether the container's user can read each: there is no
// cluster here, and offline schema validation cannot see a file the service cannot open (issue 25: a
// Secret mounted 0400 root:root for uid 1000, EACCES at start, a crash loop).
//
// What the kubelet does (pkg/volume/secret, configmap, projected; pkg/volume/volume_linux.go):
// - each file gets items[].mode, else the volume's defaultMode, else 0644 (the API's default);
// - the kubelet writes the files as root: owner uid 0, group gid 0;
// - with the pod's fsGroup, every file's group becomes fsGroup and, these volumes being read-only,
//   its mode gains 0440 (group and owner read); directories are 0755 (plus g+rx and setgid with
//   fsGroup), so traversal never stops a reader and is not modelled.
// The process: runAsUser/runAsGroup (container over pod), supplementary groups fsGroup and
// supplementalGroups. Unset ones come from the image (its USER), which the pod spec does not show: the
// caller passes what it knows of the image, or the file is reported as not provably readable.

/** The parts of the Kubernetes API this reads (free-form YAML, so every field optional). */
export interface PodSpec {
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number; supplementalGroups?: number[] };
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Volume[];
}
export interface ContainerSpec {
  name: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number; capabilities?: { add?: string[]; drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
interface Source {
  secretName?: string;
  name?: string;
  items?: KeyToPath[];
  defaultMode?: number;
}
export interface Volume {
  name: string;
  secret?: Source;
  configMap?: Source;
  projected?: { defaultMode?: number; sources?: { secret?: Source; configMap?: Source }[] };
}

/** Who the container's process is. `uid`/`gid` undefined: the image decides (not in the spec). */
export interface ProcessIdentity {
  uid: number | undefined;
  gid: number | undefined;
  groups: number[];
  /** Root keeps CAP_DAC_OVERRIDE unless the container drops it (or ALL). */
  dacOverride: boolean;
}

export interface MountedFile {
  container: string;
  volume: string;
  /** `secret/<name>` or `configMap/<name>`. */
  source: string;
  /** The key in the Secret/ConfigMap; `*` = every key (no items list, keys not known). */
  key: string;
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface FileAccess extends MountedFile {
  readable: boolean;
  /** Which permission bits decided, e.g. "other bits of 0400 (uid 1000 is not the owner 0, not in group 0)". */
  why: string;
}

const DEFAULT_MODE = 0o644;
const READ_ONLY_MASK = 0o440;

export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

/** The identity of a container's process, from the pod and container security contexts. */
export function processIdentity(pod: PodSpec, container: ContainerSpec, image: { uid?: number; gid?: number } = {}): ProcessIdentity {
  const podContext = pod.securityContext ?? {};
  const own = container.securityContext ?? {};
  const uid = own.runAsUser ?? podContext.runAsUser ?? image.uid;
  const gid = own.runAsGroup ?? podContext.runAsGroup ?? image.gid;
  const groups = [gid, podContext.fsGroup, ...(podContext.supplementalGroups ?? [])].filter((g): g is number => g !== undefined);
  const drop = own.capabilities?.drop ?? [];
  const dacOverride = uid === 0 && !drop.some((c) => c === 'ALL' || c === 'DAC_OVERRIDE' || c === 'CAP_DAC_OVERRIDE');
  return { uid, gid, groups: [...new Set(groups)], dacOverride };
}

/** Unix read permission: the owner's bits for the owner, else the group's for a member, else other's. */
export function canRead(who: ProcessIdentity, file: { mode: number; uid: number; gid: number }): { readable: boolean; why: string } {
  const mode = octal(file.mode & 0o777);
  if (who.dacOverride) return { readable: true, why: 'root with CAP_DAC_OVERRIDE' };
  if (who.uid === undefined) return { readable: false, why: 'runAsUser is not set: the user comes from the image, not provable from the pod spec' };
  if (who.uid === file.uid) return { readable: (file.mode & 0o400) !== 0, why: `owner bits of ${mode} (uid ${who.uid} owns it)` };
  if (who.groups.includes(file.gid)) return { readable: (file.mode & 0o040) !== 0, why: `group bits of ${mode} (uid ${who.uid} is in group ${file.gid})` };
  return { readable: (file.mode & 0o004) !== 0, why: `other bits of ${mode} (uid ${who.uid} is not the owner ${file.uid}, not in group ${file.gid}: groups [${who.groups.join(', ')}])` };
}

/** Mode, owner and group of one mounted file as the kubelet sets them up. */
export function fileAttributes(pod: PodSpec, mode: number): { mode: number; uid: number; gid: number } {
  const fsGroup = pod.securityContext?.fsGroup;
  return fsGroup === undefined ? { mode, uid: 0, gid: 0 } : { mode: mode | READ_ONLY_MASK, uid: 0, gid: fsGroup };
}

/**
 * Every file a container sees from Secret, ConfigMap and projected volumes. `keysOf` names the keys of
 * a Secret/ConfigMap when known (e.g. rendered alongside); a volume without items and without known
 * keys is one `*` entry (every key gets the same mode).
 */
export function mountedFiles(pod: PodSpec, keysOf: (source: string) => string[] | undefined = () => undefined): MountedFile[] {
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const files: MountedFile[] = [];
  for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const mount of container.volumeMounts ?? []) {
      const volume = volumes.get(mount.name);
      if (!volume) continue;
      for (const entry of volumeEntries(volume, keysOf)) {
        // A subPath mount is the one file (or folder) at that path in the volume.
        if (mount.subPath !== undefined && entry.path !== mount.subPath && !entry.path.startsWith(`${mount.subPath}/`) && entry.key !== '*') continue;
        const inside = mount.subPath === undefined ? entry.path : entry.path.slice(mount.subPath.length).replace(/^\//, '');
        files.push({
          container: container.name,
          volume: volume.name,
          source: entry.source,
          key: entry.key,
          path: inside === '' ? mount.mountPath : `${mount.mountPath.replace(/\/$/, '')}/${inside}`,
          ...fileAttributes(pod, entry.mode),
        });
      }
    }
  }
  return files;
}

/** The files of one volume: source, key, path inside the volume and mode. */
function volumeEntries(volume: Volume, keysOf: (source: string) => string[] | undefined): { source: string; key: string; path: string; mode: number }[] {
  const of = (source: string, spec: Source, defaultMode: number | undefined) => {
    if (spec.items?.length) return spec.items.map((item) => ({ source, key: item.key, path: item.path, mode: item.mode ?? defaultMode ?? DEFAULT_MODE }));
    const keys = keysOf(source) ?? ['*'];
    return keys.map((key) => ({ source, key, path: key, mode: defaultMode ?? DEFAULT_MODE }));
  };
  if (volume.secret) return of(`secret/${volume.secret.secretName ?? '?'}`, volume.secret, volume.secret.defaultMode);
  if (volume.configMap) return of(`configMap/${volume.configMap.name ?? '?'}`, volume.configMap, volume.configMap.defaultMode);
  if (volume.projected) {
    return (volume.projected.sources ?? []).flatMap((s) => {
      if (s.secret) return of(`secret/${s.secret.name ?? '?'}`, s.secret, volume.projected!.defaultMode);
      if (s.configMap) return of(`configMap/${s.configMap.name ?? '?'}`, s.configMap, volume.projected!.defaultMode);
      return []; // serviceAccountToken, downwardAPI, clusterTrustBundle: other rules, not used here
    });
  }
  return [];
}

/** Every mounted file with whether its container's user can read it. */
export function podFileAccess(pod: PodSpec, options: { keysOf?: (source: string) => string[] | undefined; image?: { uid?: number; gid?: number } } = {}): FileAccess[] {
  const containers = new Map([...(pod.initContainers ?? []), ...(pod.containers ?? [])].map((c) => [c.name, c]));
  return mountedFiles(pod, options.keysOf).map((file) => ({ ...file, ...canRead(processIdentity(pod, containers.get(file.container)!, options.image), file) }));
}
