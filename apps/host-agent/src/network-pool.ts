import { randomBytes } from 'node:crypto';
import type { Logger } from '@berth/config';
import { LABELS, type ContainerRuntime } from './runtime/container-runtime.js';

const POOL_PREFIX = 'berth-net-';

/**
 * Task networks made ahead of the tasks that will use them. Creating a Docker bridge network costs
 * about 100 ms, which a task paid on its start path; now it takes a network the pool made while
 * the host was idle, and the pool makes the next one off that path. Docker cannot rename or
 * relabel a network, so what ties a network to its task is the `berth.network` label of the
 * task's containers. A pool network that no container joined (made ahead, or claimed by a launch
 * the agent did not finish) is free: after a restart the pool takes such networks back.
 *
 * A removed task's network comes back to the pool too, up to `keep` free ones: removing a network
 * takes Docker's network lock, and a burst of removals (a deployment's old tasks cleaned up
 * together) held the next task's start for seconds behind them (bench/README.md).
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
    /** How many free networks to keep at most, counting those given back by removed tasks. */
    private readonly keep = spares,
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

  /**
   * The network of a task whose containers are all removed: kept for a later task while fewer
   * than `keep` are free, otherwise removed. Only pool networks come back, and only when Docker
   * says nothing is attached to them any more.
   */
  async release(name: string): Promise<void> {
    if (
      name.startsWith(POOL_PREFIX) &&
      this.free.length < this.keep &&
      !this.free.includes(name) &&
      (await this.runtime.isNetworkFree(name))
    ) {
      this.free.push(name);
      return;
    }
    await this.runtime.removeNetwork(name);
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
    const name = `${POOL_PREFIX}${randomBytes(6).toString('hex')}`;
    await this.runtime.ensureNetwork(name, {
      [LABELS.instance]: this.instanceId,
      [LABELS.networkPool]: 'true',
    });
    return name;
  }
}
