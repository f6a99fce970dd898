import { WebSocket } from 'ws';
import type { ExecSession } from '@berth/api-client';
import type { BerthApi } from './api.js';

/**
 * `berth logs` and `berth exec`: the task sessions of docs/observability.md. Logs stream as
 * plain text; exec answers ECS's ExecuteCommand session, whose WebSocket carries the command's
 * output (first byte 1 stdout, 2 stderr), stdin and terminal size, then its exit code.
 */

export interface LogsOptions {
  container?: string;
  tail?: string;
  since?: string;
  until?: string;
  follow: boolean;
  timestamps: boolean;
}

/** The logs route's query for these options (only what was given). */
export function logsQuery(o: LogsOptions): string {
  const q = new URLSearchParams();
  if (o.container) q.set('container', o.container);
  if (o.tail !== undefined) q.set('tail', o.tail);
  if (o.since) q.set('since', o.since);
  if (o.until) q.set('until', o.until);
  if (o.follow) q.set('follow', 'true');
  if (o.timestamps) q.set('timestamps', 'true');
  const s = q.toString();
  return s ? `?${s}` : '';
}

const taskPath = (cluster: string, task: string) =>
  `/v1/clusters/${encodeURIComponent(cluster)}/tasks/${encodeURIComponent(task.slice(task.lastIndexOf('/') + 1))}`;

export async function streamLogs(
  api: BerthApi,
  cluster: string,
  task: string,
  o: LogsOptions,
  out: NodeJS.WritableStream,
): Promise<void> {
  const res = await api.stream(`${taskPath(cluster, task)}/logs${logsQuery(o)}`);
  for await (const chunk of res.body!) {
    // Respect the terminal's pace: the gateway's window waits for what we have taken.
    if (!out.write(chunk as Uint8Array)) await new Promise((r) => out.once('drain', r));
  }
}

export interface ExecOptions {
  container?: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
}

/** What a text frame from the exec WebSocket says: the exit code, or why the session failed. */
export function execOutcome(text: string): { exitCode: number } | { error: string } | null {
  try {
    const m = JSON.parse(text) as { exitCode?: unknown; error?: unknown };
    if (typeof m.exitCode === 'number') return { exitCode: m.exitCode };
    if (typeof m.error === 'string') return { error: m.error };
  } catch {
    // not ours
  }
  return null;
}

/** Runs the command in the task's container; resolves with its exit code. */
export async function execInTask(
  api: BerthApi,
  cluster: string,
  task: string,
  o: ExecOptions,
  io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
): Promise<number> {
  const { session } = await api.call<ExecSession>('POST', `${taskPath(cluster, task)}/exec`, {
    ...(o.container ? { container: o.container } : {}),
    command: o.command,
    interactive: o.interactive,
    tty: o.tty,
  });
  const ws = new WebSocket(`${session.streamUrl}?token=${encodeURIComponent(session.tokenValue)}`);
  const raw = o.tty && io.stdin.isTTY;
  const resize = () => {
    if (ws.readyState === WebSocket.OPEN && io.stdout.isTTY)
      ws.send(JSON.stringify({ resize: { rows: io.stdout.rows, cols: io.stdout.columns } }));
  };
  return new Promise<number>((resolve) => {
    let outcome: { exitCode: number } | { error: string } | null = null;
    const onInput = (data: Buffer) => ws.send(data);
    ws.on('open', () => {
      if (o.tty) {
        resize();
        io.stdout.on('resize', resize);
      }
      if (o.interactive) {
        if (raw) io.stdin.setRawMode(true);
        io.stdin.on('data', onInput);
        io.stdin.resume();
      }
    });
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) (data[0] === 2 ? io.stderr : io.stdout).write(data.subarray(1));
      else outcome = execOutcome(data.toString()) ?? outcome;
    });
    let finished = false;
    const finish = (fallback: string) => {
      if (finished) return;
      finished = true;
      if (raw) io.stdin.setRawMode(false);
      io.stdin.off('data', onInput);
      io.stdin.pause();
      io.stdout.off('resize', resize);
      if (outcome && 'exitCode' in outcome) return resolve(outcome.exitCode);
      io.stderr.write(`berth: ${outcome ? outcome.error : fallback}\n`);
      resolve(1);
    };
    ws.on('close', (code, reason) =>
      finish(
        `the session closed without an exit code (${code}${reason.length ? ` ${reason.toString()}` : ''})`,
      ),
    );
    ws.on('error', (err) => finish(`the session failed: ${err.message}`));
  });
}
