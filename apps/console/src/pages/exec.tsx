import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import type { ExecSession } from '@berth/api-client';
import { api } from '../api';
import { ContainerPicker, ErrorMessage } from '../ui';

/**
 * An interactive shell in a container: POST .../exec answers a one-time WebSocket (its token in
 * the socket's URL, used once, never the access key), whose binary frames are the output (first
 * byte: 1 stdout, 2 stderr) and take the keys typed as stdin.
 */
export function ExecTerminal({ base, containers }: { base: string; containers: string[] }) {
  const [container, setContainer] = useState(containers[0]!);
  const [command, setCommand] = useState('sh');
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open || !box.current) return;
    const term = new Terminal({ convertEol: false, fontSize: 13 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    // The terminal follows the window's size; onResize below tells the container's TTY.
    const refit = () => fit.fit();
    window.addEventListener('resize', refit);
    let ws: WebSocket | undefined;
    let closed = false;
    api<ExecSession>('POST', `${base}/exec`, { container, command, interactive: true, tty: true }).then(
      ({ session }) => {
        if (closed) return;
        ws = new WebSocket(`${session.streamUrl}?token=${encodeURIComponent(session.tokenValue)}`);
        ws.binaryType = 'arraybuffer';
        const encoder = new TextEncoder();
        ws.onopen = () => {
          setStatus('connected');
          ws!.send(JSON.stringify({ resize: { rows: term.rows, cols: term.cols } }));
          term.focus();
        };
        ws.onmessage = (m) => {
          if (m.data instanceof ArrayBuffer) term.write(new Uint8Array(m.data).subarray(1));
          else {
            const end = JSON.parse(String(m.data)) as { exitCode?: number; error?: string };
            setStatus(end.error ? `ended: ${end.error}` : `exited with code ${end.exitCode}`);
          }
        };
        ws.onclose = () => setStatus((s) => (s === 'connected' ? 'closed' : s));
        term.onData((d) => ws?.readyState === WebSocket.OPEN && ws.send(encoder.encode(d)));
        term.onResize(
          ({ rows, cols }) =>
            ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ resize: { rows, cols } })),
        );
      },
      (e: unknown) => {
        setError(e);
        setOpen(false);
      },
    );
    return () => {
      closed = true;
      window.removeEventListener('resize', refit);
      ws?.close();
      term.dispose();
    };
  }, [open, base, container, command]);
  return (
    <section aria-labelledby="exec-title">
      <h2 id="exec-title">Exec</h2>
      {!open ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            setError(null);
            setStatus('');
            setOpen(true);
          }}
        >
          <ContainerPicker containers={containers} value={container} onChange={setContainer} />
          <label>
            Command <input value={command} onChange={(e) => setCommand(e.target.value)} />
          </label>
          <button type="submit">Open terminal</button>
        </form>
      ) : (
        <div className="row">
          <span role="status">{status}</span>
          <button type="button" onClick={() => setOpen(false)}>
            Close terminal
          </button>
        </div>
      )}
      <ErrorMessage error={error} />
      {open && <div ref={box} className="terminal" aria-label="Terminal" />}
    </section>
  );
}
