import Docker from 'dockerode';
import type { Logger } from '@berth/config';
import {
  ContainerRuntimeError,
  LABELS,
  SessionRefused,
  type ContainerSessions,
  type ExecSession,
  type LogsOptions,
  type OutputStream,
  type ContainerObservation,
  type ContainerRuntime,
  type ContainerStatsReading,
  type CreateContainerSpec,
  type RegistryAuth,
  type VolumeOptions,
} from './container-runtime.js';
import { subnetCandidates, type SubnetPool } from './subnets.js';

/**
 * Every timeout of the Docker client in one place. Sessions (logs, exec) use a client of their
 * own without `requestMs`: Docker's socket is idle while a followed container prints nothing, and
 * an idle timeout would cut the stream.
 */
export const DOCKER_TIMEOUTS = {
  requestMs: 60_000,
  pullMs: 10 * 60_000,
  eventsReconnectMs: 1_000,
};

const MiB = 1024 * 1024;
const SECOND_NS = 1_000_000_000;

function healthOf(info: Inspect): ContainerObservation['health'] {
  const status = info.State.Health?.Status;
  if (status === 'healthy') return 'HEALTHY';
  if (status === 'unhealthy') return 'UNHEALTHY';
  return 'UNKNOWN';
}

type Inspect = Docker.ContainerInspectInfo;

function observe(info: Inspect): ContainerObservation {
  const ports = info.NetworkSettings?.Ports ?? {};
  const bindings = Object.entries(ports).flatMap(([key, hostBindings]) => {
    const [port, protocol] = key.split('/');
    return (hostBindings ?? []).map((b) => ({
      bindIp: b.HostIp,
      containerPort: Number(port),
      hostPort: Number(b.HostPort),
      protocol: protocol ?? 'tcp',
    }));
  });
  const exited = !info.State.Running && info.State.Status !== 'created';
  return {
    runtimeId: info.Id,
    taskId: info.Config.Labels[LABELS.taskId] ?? '',
    containerName: info.Config.Labels[LABELS.containerName] ?? '',
    running: info.State.Running,
    exitCode: exited ? info.State.ExitCode : null,
    bindings,
    error: info.State.OOMKilled
      ? 'OutOfMemoryError: container killed due to memory usage'
      : info.State.Error || null,
    health: healthOf(info),
    labels: info.Config.Labels ?? {},
    createdAtMs: engineTime(info.Created),
    startedAtMs: engineTime(info.State.StartedAt),
  };
}

/** Docker says 0001-01-01T00:00:00Z for a time that has not come. */
function engineTime(at: string | undefined): number | undefined {
  const ms = at ? Date.parse(at) : NaN;
  return ms > 0 ? ms : undefined;
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;
const messageOf = (e: unknown) =>
  (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;

export class DockerRuntime implements ContainerRuntime, ContainerSessions {
  private readonly docker: Docker;
  private readonly sessions: Docker;

  constructor(
    private readonly logger: Logger,
    private readonly taskSubnets: SubnetPool,
    socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock',
  ) {
    this.docker = new Docker({ socketPath, timeout: DOCKER_TIMEOUTS.requestMs });
    this.sessions = new Docker({ socketPath });
  }

  /** One of this instance's containers, by its Docker name. */
  private async ownContainer(dockerName: string, instanceId: string): Promise<Inspect> {
    try {
      const info = await this.docker.getContainer(dockerName).inspect();
      if (info.Config.Labels?.[LABELS.instance] === instanceId) return info;
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    throw new SessionRefused(
      'the container is not on its host any more (never created, or removed after the task cleanup wait)',
    );
  }

  async logs(dockerName: string, instanceId: string, options: LogsOptions): Promise<OutputStream> {
    const info = await this.ownContainer(dockerName, instanceId);
    // Always a stream, also without follow: dockerode's logs() reads a whole log into memory then.
    const stream = await new Promise<OutputStream['stream']>((resolve, reject) =>
      this.sessions.modem.dial(
        {
          path: `/containers/${info.Id}/logs?`,
          method: 'GET',
          isStream: true,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error', 501: 'not implemented' },
          options: {
            stdout: true,
            stderr: true,
            follow: options.follow,
            timestamps: options.timestamps,
            tail: options.tail === undefined ? 'all' : String(options.tail),
            ...(options.sinceMs && { since: options.sinceMs / 1000 }),
            ...(options.untilMs && { until: options.untilMs / 1000 }),
          },
        },
        (err: Error | null, res: unknown) =>
          err
            ? reject(new SessionRefused(`logs: ${messageOf(err)}`))
            : resolve(res as OutputStream['stream']),
      ),
    );
    return { stream, tty: info.Config.Tty };
  }

  async exec(
    dockerName: string,
    instanceId: string,
    command: string[],
    options: { interactive: boolean; tty: boolean },
  ): Promise<ExecSession> {
    const info = await this.ownContainer(dockerName, instanceId);
    if (!info.State.Running) throw new SessionRefused('the container is not running');
    const exec = await this.sessions.getContainer(info.Id).exec({
      Cmd: command,
      AttachStdin: options.interactive,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
    });
    const socket = (await exec.start({ hijack: true, stdin: options.interactive, Tty: options.tty })) as
      (OutputStream['stream'] & NodeJS.WritableStream) | undefined;
    if (!socket) throw new SessionRefused('docker did not attach to the exec');
    return {
      stream: socket,
      tty: options.tty,
      input: options.interactive ? socket : null,
      resize: async (rows, cols) => {
        await exec.resize({ h: rows, w: cols });
      },
      exitCode: async () => (await exec.inspect()).ExitCode ?? null,
    };
  }

  async finishedAt(runtimeId: string): Promise<number | null> {
    try {
      const info = await this.docker.getContainer(runtimeId).inspect();
      const at = engineTime(info.State.FinishedAt);
      return info.State.Running || at === undefined ? null : at;
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
  }

  async ensureImage(image: string, auth?: RegistryAuth): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (e) {
      if (statusOf(e) !== 404) throw new ContainerRuntimeError('CannotPullContainerError', messageOf(e));
    }
    try {
      const stream = await this.docker.pull(
        image,
        auth
          ? {
              authconfig: {
                serveraddress: auth.serverAddress,
                username: auth.username,
                password: auth.password,
              },
            }
          : {},
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`pull timed out after ${DOCKER_TIMEOUTS.pullMs} ms`)),
          DOCKER_TIMEOUTS.pullMs,
        );
        this.docker.modem.followProgress(stream, (err: Error | null) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
    } catch (e) {
      throw new ContainerRuntimeError('CannotPullContainerError', `pull of ${image} failed: ${messageOf(e)}`);
    }
  }

  async createAndStart(spec: CreateContainerSpec): Promise<ContainerObservation> {
    let container: Docker.Container;
    // Only a container an earlier attempt created may be running already; a new one is not.
    let createdNow = true;
    try {
      container = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Labels: spec.labels,
        Cmd: spec.command.length ? spec.command : undefined,
        Entrypoint: spec.entryPoint.length ? spec.entryPoint : undefined,
        Env: spec.environment.map((e) => `${e.name}=${e.value}`),
        ExposedPorts: Object.fromEntries(
          spec.portMappings.map((p) => [`${p.containerPort}/${p.protocol}`, {}]),
        ),
        WorkingDir: spec.workingDirectory || undefined,
        User: spec.user || undefined,
        Hostname: spec.hostname || undefined,
        NetworkingConfig:
          spec.networkMode === 'bridge'
            ? { EndpointsConfig: { [spec.network]: { Aliases: [spec.alias] } } }
            : undefined,
        StopTimeout: spec.stopTimeoutSeconds,
        Healthcheck: spec.healthCheck
          ? {
              Test: spec.healthCheck.command,
              Interval: spec.healthCheck.intervalSeconds * SECOND_NS,
              Timeout: spec.healthCheck.timeoutSeconds * SECOND_NS,
              Retries: spec.healthCheck.retries,
              StartPeriod: spec.healthCheck.startPeriodSeconds * SECOND_NS,
            }
          : undefined,
        HostConfig: {
          NetworkMode: spec.networkMode === 'bridge' ? spec.network : spec.networkMode,
          Binds: spec.binds.length ? spec.binds : undefined,
          VolumesFrom: spec.volumesFrom.length ? spec.volumesFrom : undefined,
          Ulimits: spec.ulimits.length
            ? spec.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit }))
            : undefined,
          CapAdd: spec.capAdd.length ? spec.capAdd : undefined,
          CapDrop: spec.capDrop.length ? spec.capDrop : undefined,
          ReadonlyRootfs: spec.readonlyRootFilesystem || undefined,
          Privileged: spec.privileged || undefined,
          SecurityOpt: spec.noNewPrivileges ? ['no-new-privileges'] : undefined,
          PidsLimit: spec.pidsLimit > 0 ? spec.pidsLimit : undefined,
          LogConfig: spec.logConfiguration
            ? { Type: spec.logConfiguration.logDriver, Config: spec.logConfiguration.options }
            : undefined,
          ExtraHosts: spec.extraHosts.length ? spec.extraHosts : undefined,
          // A container on the host's network listens on the host itself: nothing to publish.
          PortBindings:
            spec.networkMode !== 'bridge'
              ? undefined
              : Object.fromEntries(
                  spec.portMappings.map((p) => [
                    `${p.containerPort}/${p.protocol}`,
                    [{ HostIp: spec.hostAddress, HostPort: p.hostPort ? String(p.hostPort) : '' }],
                  ]),
                ),
          // Docker's minimum share is 2; 0 means "not set" in ECS and in Docker.
          CpuShares: spec.cpuShares > 0 ? Math.max(2, spec.cpuShares) : undefined,
          Memory: spec.memoryMiB > 0 ? spec.memoryMiB * MiB : undefined,
          MemoryReservation: spec.memoryReservationMiB > 0 ? spec.memoryReservationMiB * MiB : undefined,
          Init: spec.init || undefined,
        },
      });
    } catch (e) {
      if (statusOf(e) !== 409) throw new ContainerRuntimeError('CannotCreateContainerError', messageOf(e));
      // Created by an earlier attempt (the agent died between create and report): carry on with it.
      container = this.docker.getContainer(spec.name);
      createdNow = false;
    }
    try {
      if (createdNow || (await container.inspect()).State.Status === 'created') await container.start();
    } catch (e) {
      throw new ContainerRuntimeError('CannotStartContainerError', messageOf(e));
    }
    return observe(await container.inspect());
  }

  async restart(runtimeId: string): Promise<ContainerObservation | null> {
    try {
      await this.docker.getContainer(runtimeId).start();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      // 304: already running again.
      if (statusOf(e) !== 304) throw new ContainerRuntimeError('CannotStartContainerError', messageOf(e));
    }
    return this.inspect(runtimeId);
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.docker.getNetwork(name).inspect();
      return;
    } catch (e) {
      if (statusOf(e) !== 404) throw new ContainerRuntimeError('CannotCreateContainerError', messageOf(e));
    }
    const attempts = 64;
    for (const subnet of subnetCandidates(this.taskSubnets, labels[LABELS.taskId] ?? name, attempts)) {
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Labels: labels,
          CheckDuplicate: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        });
        return;
      } catch (e) {
        // 409: created meanwhile by a retried launch. An overlap: another task has that subnet.
        if (statusOf(e) === 409) return;
        if (!/overlap/i.test(messageOf(e)))
          throw new ContainerRuntimeError('CannotCreateContainerError', `network ${name}: ${messageOf(e)}`);
      }
    }
    throw new ContainerRuntimeError(
      'CannotCreateContainerError',
      `network ${name}: no free /28 found in ${attempts} tries in the task network pool ${this.taskSubnets.cidr}`,
    );
  }

  async freeNetworks(instanceId: string): Promise<string[]> {
    const networks = await this.docker.listNetworks({
      filters: { label: [`${LABELS.networkPool}=true`, `${LABELS.instance}=${instanceId}`] },
    });
    const free: string[] = [];
    for (const n of networks) if (await this.isNetworkFree(n.Name)) free.push(n.Name);
    return free;
  }

  async ensureVolume(name: string, options: VolumeOptions, create: boolean): Promise<void> {
    try {
      await this.docker.getVolume(name).inspect();
      return;
    } catch (e) {
      if (statusOf(e) !== 404) throw new ContainerRuntimeError('CannotCreateContainerError', messageOf(e));
    }
    if (!create)
      throw new ContainerRuntimeError(
        'CannotCreateContainerError',
        `shared volume ${name} does not exist on this host and autoprovision is false`,
      );
    try {
      await this.docker.createVolume({
        Name: name,
        Driver: options.driver,
        DriverOpts: options.driverOpts,
        Labels: options.labels,
      });
    } catch (e) {
      throw new ContainerRuntimeError('CannotCreateContainerError', `volume ${name}: ${messageOf(e)}`);
    }
  }

  async isNetworkFree(name: string): Promise<boolean> {
    try {
      // The list leaves out who joined a network; inspect says.
      const info = await this.docker.getNetwork(name).inspect();
      return Object.keys(info.Containers ?? {}).length === 0;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw e;
    }
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (e) {
      if (statusOf(e) !== 404) this.logger.warn({ err: e, network: name }, 'could not remove a task network');
    }
  }

  async removeTaskVolumes(taskId: string): Promise<void> {
    const { Volumes } = await this.docker.listVolumes({
      filters: { label: [`${LABELS.taskId}=${taskId}`, `${LABELS.volumeScope}=task`] },
    });
    for (const v of Volumes ?? []) {
      try {
        await this.docker.getVolume(v.Name).remove();
      } catch (e) {
        if (statusOf(e) !== 404)
          this.logger.warn({ err: e, volume: v.Name }, 'could not remove a task volume');
      }
    }
  }

  async stop(runtimeId: string, timeoutSeconds?: number): Promise<void> {
    try {
      // Without t, Docker waits for the StopTimeout the container was created with.
      await this.docker
        .getContainer(runtimeId)
        .stop(timeoutSeconds === undefined ? {} : { t: timeoutSeconds });
    } catch (e) {
      // 304: already stopped; 404: already gone. Both mean the container is not running.
      if (statusOf(e) !== 304 && statusOf(e) !== 404) throw e;
    }
  }

  async remove(runtimeId: string): Promise<void> {
    try {
      await this.docker.getContainer(runtimeId).remove({ force: true });
    } catch (e) {
      if (statusOf(e) !== 404 && statusOf(e) !== 409) throw e;
    }
  }

  async inspect(runtimeId: string): Promise<ContainerObservation | null> {
    try {
      return observe(await this.docker.getContainer(runtimeId).inspect());
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
  }

  async stats(runtimeId: string): Promise<ContainerStatsReading | null> {
    let s: Docker.ContainerStats;
    try {
      // one-shot: Docker answers at once instead of waiting a second for a second reading; the
      // agent computes rates from its own previous reading.
      s = await this.docker.getContainer(runtimeId).stats({ stream: false, 'one-shot': true });
    } catch (e) {
      if (statusOf(e) === 404 || statusOf(e) === 409) return null;
      throw e;
    }
    const cpuTotalNs = s.cpu_stats?.cpu_usage?.total_usage;
    // A stopped container answers with zeros and no read time.
    if (!cpuTotalNs || !s.read || s.read.startsWith('0001-')) return null;
    const memory = s.memory_stats ?? ({} as Docker.MemoryStats);
    // cgroup v2 names it inactive_file, v1 total_inactive_file: cache the kernel can drop.
    const cache = memory.stats?.inactive_file ?? memory.stats?.total_inactive_file ?? 0;
    const networks = Object.values(s.networks ?? {});
    return {
      readAtMs: Date.parse(s.read),
      cpuTotalNs,
      memoryBytes: Math.max(0, (memory.usage ?? 0) - cache),
      memoryLimitBytes: memory.limit ?? 0,
      networkRxBytes: networks.reduce((n, i) => n + (i.rx_bytes ?? 0), 0),
      networkTxBytes: networks.reduce((n, i) => n + (i.tx_bytes ?? 0), 0),
    };
  }

  async list(instanceId: string): Promise<ContainerObservation[]> {
    const summaries = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.instance}=${instanceId}`] },
    });
    const observed = await Promise.all(summaries.map((s) => this.inspect(s.Id)));
    return observed.filter((o): o is ContainerObservation => o !== null);
  }

  watch(instanceId: string, onChange: (runtimeId: string) => void): () => void {
    let stopped = false;
    let current: NodeJS.ReadableStream | undefined;
    const connect = async () => {
      while (!stopped) {
        try {
          const stream = (await this.docker.getEvents({
            filters: {
              type: ['container'],
              label: [`${LABELS.instance}=${instanceId}`],
              event: ['start', 'die', 'health_status'],
            },
          })) as NodeJS.ReadableStream;
          current = stream;
          let buffer = '';
          await new Promise<void>((resolve) => {
            stream.on('data', (chunk: Buffer) => {
              buffer += chunk.toString();
              let nl: number;
              while ((nl = buffer.indexOf('\n')) >= 0) {
                const line = buffer.slice(0, nl).trim();
                buffer = buffer.slice(nl + 1);
                if (!line) continue;
                let event: { id?: string; Actor?: { ID?: string } } | null;
                try {
                  event = JSON.parse(line) as typeof event;
                } catch {
                  // A throw here would escape the stream handler and end the agent.
                  this.logger.warn({ line: line.slice(0, 200) }, 'dropped a malformed docker event');
                  continue;
                }
                const id = event?.Actor?.ID ?? event?.id;
                if (id) onChange(id);
              }
            });
            stream.on('end', resolve);
            stream.on('error', resolve);
          });
        } catch (err) {
          this.logger.warn({ err }, 'docker events stream failed; reconnecting');
        }
        if (!stopped) await new Promise((r) => setTimeout(r, DOCKER_TIMEOUTS.eventsReconnectMs));
      }
    };
    void connect();
    return () => {
      stopped = true;
      (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }
}
