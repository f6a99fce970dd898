import { spawn, execFile } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@berth/config';
import {
  RuntimeApi,
  oldWorkerSessions,
  reloadMaster,
  sendCommand,
  type RuntimeSnapshot,
} from './runtime-api.js';

const execFileAsync = promisify(execFile);

/** Every wait of the HAProxy process, in one place. */
export const HAPROXY_TIMEOUTS = { startMs: 10_000, reloadMs: 15_000, stopMs: 30_000, pollMs: 50 };

/** The files of one HAProxy, all in one run directory. */
export interface HaproxyPaths {
  dir: string;
  config: string;
  adminSocket: string;
  masterSocket: string;
  pidFile: string;
  serverStateFile: string;
  log: string;
}

export function haproxyPaths(dir: string): HaproxyPaths {
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    adminSocket: path.join(dir, 'admin.sock'),
    masterSocket: path.join(dir, 'master.sock'),
    pidFile: path.join(dir, 'haproxy.pid'),
    serverStateFile: path.join(dir, 'server-state'),
    log: path.join(dir, 'haproxy.log'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One HAProxy in master-worker mode, started by this app or adopted from an earlier run of it.
 *
 * HAProxy runs in its own process group and outlives the app: when the app is killed (even with
 * SIGKILL) and starts again, it finds the master through its pid file and sockets and adopts it,
 * so open connections are never cut by a restart of the app. It then reloads it once (seamless),
 * because the file on disk may be one the master never loaded.
 */
export class Haproxy {
  readonly api: RuntimeApi;
  private masterPid: number | null = null;

  constructor(
    readonly paths: HaproxyPaths,
    private readonly logger: Logger,
    private readonly binary = 'haproxy',
  ) {
    this.api = new RuntimeApi(paths.adminSocket);
  }

  get pid(): number | null {
    return this.masterPid;
  }

  /** Is the master still there? */
  isAlive(): boolean {
    return this.masterPid !== null && pidIsHaproxy(this.masterPid);
  }

  /** Adopts the HAProxy of an earlier run if its master lives and answers; returns whether it did. */
  async adopt(): Promise<boolean> {
    let pid: number;
    try {
      pid = Number((await readFile(this.paths.pidFile, 'utf8')).trim());
    } catch {
      return false;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !pidIsHaproxy(pid)) return false;
    try {
      await sendCommand(this.paths.masterSocket, 'show proc');
      await this.api.workerPid();
    } catch (err) {
      this.logger.warn({ err, pid }, 'an earlier HAProxy does not answer: stopping it');
      await this.signalAndWait(pid, 'SIGTERM');
      return false;
    }
    this.masterPid = pid;
    this.logger.info({ pid }, 'adopted the running HAProxy');
    return true;
  }

  /** Checks a config with `haproxy -c`; throws HAProxy's own message when it is refused. */
  async check(file: string): Promise<void> {
    try {
      await execFileAsync(this.binary, ['-c', '-q', '-f', file]);
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`HAProxy refuses the config: ${(e.stderr || e.stdout || e.message).trim()}`, {
        cause: err,
      });
    }
  }

  private async writeChecked(config: string): Promise<void> {
    await mkdir(this.paths.dir, { recursive: true });
    const next = `${this.paths.config}.next`;
    await writeFile(next, config);
    await this.check(next);
    await rename(next, this.paths.config);
  }

  /** Starts a new master with this config and waits until its worker answers. */
  async start(config: string): Promise<void> {
    await this.writeChecked(config);
    // A state file of an earlier HAProxy would describe servers this one never had.
    await rm(this.paths.serverStateFile, { force: true });
    await rm(this.paths.adminSocket, { force: true });
    await rm(this.paths.masterSocket, { force: true });
    const log = openSync(this.paths.log, 'a');
    try {
      const child = spawn(
        this.binary,
        [
          '-W',
          '-f',
          this.paths.config,
          '-S',
          `${this.paths.masterSocket},mode,600`,
          '-p',
          this.paths.pidFile,
        ],
        { detached: true, stdio: ['ignore', log, log] },
      );
      child.on('error', (err) => this.logger.error({ err }, 'HAProxy failed to start'));
      child.on('exit', (code, signal) =>
        this.logger[code === 0 ? 'info' : 'warn']({ code, signal }, 'HAProxy exited'),
      );
      child.unref();
      if (child.pid === undefined) throw new Error(`cannot run ${this.binary}`);
      this.masterPid = child.pid;
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + HAPROXY_TIMEOUTS.startMs;
    for (;;) {
      try {
        const worker = await this.api.workerPid();
        this.logger.info({ pid: this.masterPid, worker }, 'HAProxy started');
        return;
      } catch (err) {
        if (!this.isAlive() || Date.now() > deadline)
          throw new Error(`HAProxy did not start (see ${this.paths.log}): ${String(err)}`, { cause: err });
        await sleep(HAPROXY_TIMEOUTS.pollMs);
      }
    }
  }

  /**
   * A seamless reload: the new config is checked first (a refused one changes nothing), the
   * servers' state is saved for the new worker, the master starts a worker that takes over the
   * listening sockets, and the old one finishes its open requests. Returns once the new worker
   * answers on the admin socket.
   */
  async reload(config: string): Promise<void> {
    await this.writeChecked(config);
    const before = await this.api.workerPid();
    await writeFile(this.paths.serverStateFile, await this.api.serversState());
    await reloadMaster(this.paths.masterSocket);
    const deadline = Date.now() + HAPROXY_TIMEOUTS.reloadMs;
    for (;;) {
      await sleep(HAPROXY_TIMEOUTS.pollMs);
      try {
        const after = await this.api.workerPid();
        if (after !== before) {
          this.logger.info({ worker: after, previous: before }, 'HAProxy reloaded');
          return;
        }
      } catch {
        // The socket is being handed over.
      }
      if (Date.now() > deadline) throw new Error(`HAProxy did not reload (see ${this.paths.log})`);
    }
  }

  /** The current worker's backends and servers, with the sessions still open in old workers. */
  async snapshot(): Promise<RuntimeSnapshot> {
    const snapshot = await this.api.snapshot();
    try {
      return { ...snapshot, oldWorkerSessions: await oldWorkerSessions(this.paths.masterSocket) };
    } catch (err) {
      // The master CLI is only needed for this count; health is still worth reporting without it.
      this.logger.warn({ err }, 'cannot read the old workers through the master CLI');
      return snapshot;
    }
  }

  /** Soft stop (SIGUSR1): listeners close, open requests finish, then the processes exit. */
  async stop(): Promise<void> {
    if (this.masterPid === null) return;
    await this.signalAndWait(this.masterPid, 'SIGUSR1');
    this.masterPid = null;
  }

  /** Kills the master at once (tests of a crashed HAProxy). */
  kill(): void {
    if (this.masterPid !== null) process.kill(-this.masterPid, 'SIGKILL');
  }

  private async signalAndWait(pid: number, signal: NodeJS.Signals): Promise<void> {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + HAPROXY_TIMEOUTS.stopMs;
    while (pidIsHaproxy(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await sleep(HAPROXY_TIMEOUTS.pollMs);
    }
  }
}

/** A live, non-zombie process running haproxy (a recycled pid is not ours). */
function pidIsHaproxy(pid: number): boolean {
  const proc = `/proc/${pid}`;
  if (!existsSync(proc)) return false;
  try {
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    return readFileSync(`${proc}/cmdline`, 'utf8').includes('haproxy');
  } catch {
    return false;
  }
}
