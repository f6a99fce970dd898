import net from 'node:net';

// A small adapter of our own: the npm clients of the stats socket (haproxy, haproxy-sdk,
// haproxy-stat, haproxy-sock-handler) date from HAProxy 1.5-1.8 and nbproc. None of them knows the
// 2.x dynamic servers (`add server`, `del server`) or the master CLI, which are what this app needs.

/** Every timeout of the HAProxy sockets, in one place. */
export const SOCKET_TIMEOUT_MS = 3000;

/** One server as HAProxy's Runtime API shows it (`show stat`). */
export interface RuntimeServer {
  backend: string;
  name: string;
  host: string;
  port: number;
  /** `status` of `show stat`: UP, DOWN, "UP 1/2", "DOWN 1/3", DRAIN, MAINT, NOLB, "no check"... */
  status: string;
  /** `check_status`: L7OK, L7STS, L4CON, L4TOUT, INI... */
  checkStatus: string;
  /** Current sessions (scur). */
  sessions: number;
}

/** What the running worker serves: its backends and their servers. */
export interface RuntimeSnapshot {
  backends: string[];
  servers: RuntimeServer[];
  /**
   * Each backend's cumulative requests since the worker started: HTTP requests (req_tot) in an
   * HTTP backend, connections (stot) in a TCP one.
   */
  backendRequests: Record<string, number>;
  /**
   * Sessions still open in workers replaced by a reload, by `backend/server`: they finish their
   * requests there, on servers the new worker may no longer have.
   */
  oldWorkerSessions?: Record<string, number>;
}

export class RuntimeApiError extends Error {}

/** Sends one command over a HAProxy unix socket (stats or master CLI) and returns the answer. */
export function sendCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let out = '';
    socket.setTimeout(SOCKET_TIMEOUT_MS, () =>
      socket.destroy(new RuntimeApiError(`${socketPath}: "${command}" timed out`)),
    );
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk) => (out += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(out);
    });
  });
}

/** The Runtime API of one HAProxy (its admin stats socket). */
export class RuntimeApi {
  constructor(readonly socketPath: string) {}

  async command(command: string): Promise<string> {
    return sendCommand(this.socketPath, command);
  }

  /** Runs a command whose success answer is known; anything else is an error. */
  private async expect(command: string, ok: (answer: string) => boolean): Promise<void> {
    const answer = (await this.command(command)).trim();
    if (!ok(answer)) throw new RuntimeApiError(`"${command}": ${answer || '(no answer)'}`);
  }

  /** Adds a server in maintenance; `enableServer` puts it in rotation. */
  addServer(backend: string, server: string, address: string, options: string): Promise<void> {
    return this.expect(`add server ${backend}/${server} ${address} ${options}`, (a) =>
      a.startsWith('New server registered'),
    );
  }

  /** Starts health checks (off for a server added at run time) and leaves maintenance. */
  async enableServer(backend: string, server: string): Promise<void> {
    await this.expect(`enable health ${backend}/${server}`, (a) => a === '');
    await this.expect(`set server ${backend}/${server} state ready`, (a) => a === '');
  }

  /**
   * Puts a server added with `weight 0` in rotation once `rise` checks pass. HAProxy 2.6 counts a
   * server leaving maintenance as up, before any check: at weight 0 it takes no request while it
   * is marked down, and gets its weight once down.
   */
  async admitWhenHealthy(backend: string, server: string, weight: number): Promise<void> {
    await this.enableServer(backend, server);
    await this.expect(`set server ${backend}/${server} health down`, (a) => a === '');
    await this.expect(`set server ${backend}/${server} weight ${weight}`, (a) => a === '');
  }

  setState(backend: string, server: string, state: 'ready' | 'drain' | 'maint'): Promise<void> {
    return this.expect(`set server ${backend}/${server} state ${state}`, (a) => a === '');
  }

  shutdownSessions(backend: string, server: string): Promise<void> {
    return this.expect(`shutdown sessions server ${backend}/${server}`, (a) => a === '');
  }

  /** Deletes a server; HAProxy refuses one not in maintenance or with sessions left. */
  deleteServer(backend: string, server: string): Promise<void> {
    return this.expect(`del server ${backend}/${server}`, (a) => a.startsWith('Server deleted'));
  }

  /** The worker's pid (`show info`): changes when a reload has taken over. */
  async workerPid(): Promise<number> {
    const info = await this.command('show info');
    const pid = /^Pid:\s*(\d+)/m.exec(info);
    if (!pid) throw new RuntimeApiError(`show info: no Pid in ${JSON.stringify(info.slice(0, 200))}`);
    return Number(pid[1]);
  }

  /** `show servers state`, as saved to the server-state file before a reload. */
  serversState(): Promise<string> {
    return this.command('show servers state');
  }

  /** Every backend and server. */
  async snapshot(): Promise<RuntimeSnapshot> {
    return parseStat(await this.command('show stat'));
  }
}

/** The backends and servers of `show stat` (CSV with a `# pxname,svname,...` header). */
export function parseStat(csv: string): RuntimeSnapshot {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) throw new RuntimeApiError(`show stat: unexpected answer ${header ?? ''}`);
  const cols = header.slice(2).split(',');
  const at = (row: string[], name: string) => row[cols.indexOf(name)] ?? '';
  const servers: RuntimeServer[] = [];
  const backends: string[] = [];
  const backendRequests: Record<string, number> = {};
  for (const line of lines) {
    const row = line.split(',');
    const name = at(row, 'svname');
    // type: 0 frontend, 1 backend, 2 server, 3 listener.
    if (at(row, 'type') === '1') {
      backends.push(at(row, 'pxname'));
      backendRequests[at(row, 'pxname')] = Number(at(row, 'req_tot') || at(row, 'stot') || 0);
    }
    if (at(row, 'type') !== '2') continue;
    const addr = at(row, 'addr');
    const colon = addr.lastIndexOf(':');
    servers.push({
      backend: at(row, 'pxname'),
      name,
      host: addr.slice(0, colon),
      port: Number(addr.slice(colon + 1)),
      status: at(row, 'status'),
      checkStatus: at(row, 'check_status').replace(/^\* /, ''),
      sessions: Number(at(row, 'scur') || 0),
    });
  }
  return { backends, servers, backendRequests };
}

/** The master CLI (`-S` socket): reloads the workers seamlessly. */
export async function reloadMaster(masterSocket: string): Promise<void> {
  await sendCommand(masterSocket, 'reload');
}

/** The pids under `# old workers` in the master CLI's `show proc`. */
export function parseOldWorkers(showProc: string): number[] {
  const pids: number[] = [];
  let inOld = false;
  for (const line of showProc.split('\n')) {
    if (line.startsWith('#')) {
      inOld = line.startsWith('# old workers');
      continue;
    }
    const pid = /^(\d+)\s/.exec(line);
    if (inOld && pid) pids.push(Number(pid[1]));
  }
  return pids;
}

/** The open sessions of every server in the old workers, through the master CLI (`@!<pid>`). */
export async function oldWorkerSessions(masterSocket: string): Promise<Record<string, number>> {
  const sessions: Record<string, number> = {};
  for (const pid of parseOldWorkers(await sendCommand(masterSocket, 'show proc'))) {
    let stat: RuntimeSnapshot;
    try {
      stat = parseStat(await sendCommand(masterSocket, `@!${pid} show stat`));
    } catch {
      continue; // it has just exited
    }
    for (const s of stat.servers) {
      if (s.sessions > 0)
        sessions[`${s.backend}/${s.name}`] = (sessions[`${s.backend}/${s.name}`] ?? 0) + s.sessions;
    }
  }
  return sessions;
}
