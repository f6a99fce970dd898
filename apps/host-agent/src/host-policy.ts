import { realpath } from 'node:fs/promises';
import {
  checkContainerPolicy,
  clusterPolicyRefusal,
  describeViolations,
  hostPathSegments,
  localVolumeHostPath,
  normalizeHostPath,
  type PolicyRule,
  type PolicySubject,
} from '@berth/domain';
import type { TaskSpec } from '@berth/proto';
import type { HostPolicyConfig } from './config.js';

/** The fields of a task spec that the container policy looks at, named as in the task definition. */
export function policySubjectOf(spec: TaskSpec): PolicySubject {
  return {
    networkMode: spec.networkMode,
    volumes: spec.volumes.map((v) =>
      v.type === 'host'
        ? { name: v.name, host: { sourcePath: v.sourcePath } }
        : {
            name: v.name,
            dockerVolumeConfiguration: { driver: v.driver || 'local', driverOpts: v.driverOpts },
          },
    ),
    containerDefinitions: spec.containers.map((c) => ({
      name: c.name,
      privileged: c.privileged,
      linuxParameters: { capabilities: { add: c.capabilitiesAdd } },
    })),
  };
}

/** Which flag lets this host allow what a rule refuses. */
const FLAG_FOR: Partial<Record<PolicyRule, string>> = {
  privileged: '--allow-privileged',
  capabilities: '--allow-privileged',
  hostNetwork: '--allow-host-network or --allow-privileged',
  hostPath: '--allowed-host-path or --allow-privileged',
  volumeDriverHostPath: '--allowed-host-path or --allow-privileged',
};

/**
 * What this host lets a task do, whatever the control plane says, and the cluster's policy
 * checked once more at launch (it may have changed since RunTask). Host paths are compared as
 * this host resolves them, symlinks included: a link under an allowed prefix does not lead out.
 */
export class HostPolicy {
  constructor(
    private readonly config: HostPolicyConfig,
    private readonly realpathOf: (path: string) => Promise<string> = realpath,
  ) {}

  /** Why the task may not start here (`ContainerPolicyError: ...`), or null. */
  async refusal(spec: TaskSpec): Promise<string | null> {
    const notes: string[] = [];
    const real = async (path: string) => {
      const resolved = await this.realHostPath(path);
      if (resolved !== normalizeHostPath(path)) notes.push(`${path} is ${resolved} on this host`);
      return resolved;
    };
    const subject = await this.withRealPaths(policySubjectOf(spec), real);
    const ref = `${spec.family}:${spec.revision}`;
    const reasons: string[] = [];
    // A spec without a policy comes from a gateway that predates it: baseline, as for a new cluster.
    const cluster = spec.containerPolicy ?? { level: 'baseline', allowedHostPathPrefixes: [] };
    const byCluster = clusterPolicyRefusal(
      {
        name: spec.cluster,
        containerPolicyLevel: cluster.level,
        allowedHostPathPrefixes: await Promise.all(cluster.allowedHostPathPrefixes.map(real)),
      },
      ref,
      subject,
    );
    if (byCluster) reasons.push(byCluster);
    const byHost = checkContainerPolicy(
      {
        level: this.config.allowPrivileged ? 'privileged' : 'baseline',
        allowedHostPathPrefixes: await Promise.all(this.config.allowedHostPaths.map(real)),
      },
      subject,
    ).filter((v) => !(v.rule === 'hostNetwork' && this.config.allowHostNetwork));
    if (byHost.length)
      reasons.push(
        `the policy of this host refuses ${ref}: ${describeViolations(
          byHost.map((v) => ({ ...v, message: `${v.message} (allowed here with ${FLAG_FOR[v.rule]})` })),
        )}`,
      );
    if (!reasons.length) return null;
    const seen = [...new Set(notes)];
    return `ContainerPolicyError: ${reasons.join('; and ')}${seen.length ? ` (${seen.join(', ')})` : ''}`;
  }

  /**
   * Docker options that confine every container of the task: no-new-privileges and a pids
   * limit, unless both the cluster and this host allow privileged containers.
   */
  confinement(spec: TaskSpec): { noNewPrivileges: boolean; pidsLimit: number } {
    const privileged = this.config.allowPrivileged && spec.containerPolicy?.level === 'privileged';
    return privileged
      ? { noNewPrivileges: false, pidsLimit: 0 }
      : { noNewPrivileges: true, pidsLimit: this.config.pidsLimit };
  }

  private async withRealPaths(
    subject: PolicySubject,
    real: (path: string) => Promise<string>,
  ): Promise<PolicySubject> {
    const volumes = await Promise.all(
      (subject.volumes ?? []).map(async (v) => {
        const source = v.host?.sourcePath;
        if (typeof source === 'string') return { ...v, host: { sourcePath: await real(source) } };
        const opts = (v.dockerVolumeConfiguration?.driverOpts ?? {}) as Record<string, string>;
        const device = v.dockerVolumeConfiguration?.driver === 'local' ? localVolumeHostPath(opts) : null;
        if (!device) return v;
        return {
          ...v,
          dockerVolumeConfiguration: {
            ...v.dockerVolumeConfiguration,
            driverOpts: { ...opts, device: await real(device) },
          },
        };
      }),
    );
    return { ...subject, volumes };
  }

  /**
   * A host path as the kernel will find it: its symlinks resolved. Of a path that does not exist
   * yet (Docker creates it), the part that exists is resolved and the rest kept.
   */
  private async realHostPath(path: string): Promise<string> {
    try {
      return await this.realpathOf(path);
    } catch {
      const segments = hostPathSegments(path);
      for (let i = segments.length - 1; i >= 0; i--) {
        try {
          const base = await this.realpathOf(`/${segments.slice(0, i).join('/')}`);
          return normalizeHostPath(`${base}/${segments.slice(i).join('/')}`);
        } catch {
          // Not there either: try its parent.
        }
      }
      return normalizeHostPath(path);
    }
  }
}
