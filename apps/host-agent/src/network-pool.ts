import { randomBytes } from 'node:crypto';
import type { Logger } from '@berth/config';
import { LABELS, type ContainerRuntime } from './runtime/container-runtime.js';

/**
 * Task networks made ahead of the tasks that will use them. Creating a Docker bridge network costs
 * about 100 ms, which a task paid on its start path; now it takes a network the pool made while
 * the host was idle, and the pool makes the next one off that path. Docker cannot rename or
 * relabel a network, so what ties a network to its task is the `berth.network` label of the
 * task's containers. A pool network that no container joined (made ahead, or claimed by a launch
 * the agent did not finish) is free: after a restart the pool takes such networks back.
 */
export class TaskNetworkPool {
  private readonly free: string[] = [];
  private filling: Promise<void> | null = null;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly instanceId: string,
    private readonly logger: Logger,
    /** How many networks to keep made ahead; 0 makes each one when a task asks. */
    private readonly spares: number,
  ) {}

  /** Takes back the free networks a previous run of the agent left, then makes the rest. */
  async start(): Promise<void> {
    const left = await this.runtime.freeNetworks(this.instanceId);
    this.free.push(...left.filter((name) => !this.free.includes(name)));
    this.fill();
  }

  /** A network for one task: made ahead when there is one, otherwise made now. */
  async take(): Promise<string> {
    const name = this.free.shift() ?? (await this.make());
    this.fill();
    return name;
  }

  /** Makes networks until `spares` are free; one filling at a time, failures only logged. */
  private fill(): void {
    if (this.filling || this.free.length >= this.spares) return;
    this.filling = (async () => {
      while (this.free.length < this.spares) this.free.push(await this.make());
    })()
      .catch((err: unknown) => this.logger.warn({ err }, 'could not make a task network ahead'))
      .finally(() => {
        this.filling = null;
      });
  }

  private async make(): Promise<string> {
    const name = `berth-net-${randomBytes(6).toString('hex')}`;
    await this.runtime.ensureNetwork(name, {
      [LABELS.instance]: this.instanceId,
      [LABELS.networkPool]: 'true',
    });
    return name;
  }
}
