import { useEffect, useRef, useState, type ReactNode } from 'react';
import * as AlertDialog from '@radix-ui/react-alert-dialog';
import { useVirtualizer } from '@tanstack/react-virtual';
import { ApiError } from '@berth/api-client';

/** An API error as the API wrote it: its code and its message, unchanged. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

/** Which of a task's containers a panel (logs, exec) is for: no choice shown for a single one. */
export function ContainerPicker(props: {
  containers: string[];
  value: string;
  onChange: (container: string) => void;
}) {
  if (props.containers.length < 2) return null;
  return (
    <label>
      Container{' '}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.containers.map((c) => (
          <option key={c}>{c}</option>
        ))}
      </select>
    </label>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

/**
 * A button that asks before it acts (every destructive action): an accessible alert dialog with
 * the consequence spelled out, which shows the API's error in place if the action fails.
 */
export function ConfirmButton(props: {
  label: string;
  title: string;
  description: ReactNode;
  confirm?: string;
  action: () => Promise<unknown>;
  danger?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.action();
      setOpen(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <AlertDialog.Root open={open} onOpenChange={(o) => (setOpen(o), setError(null))}>
      <AlertDialog.Trigger asChild>
        <button type="button" className={props.danger ? 'danger' : undefined}>
          {props.label}
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="overlay" />
        <AlertDialog.Content className="dialog">
          <AlertDialog.Title>{props.title}</AlertDialog.Title>
          <AlertDialog.Description asChild>
            <div>{props.description}</div>
          </AlertDialog.Description>
          <ErrorMessage error={error} />
          <div className="row">
            <AlertDialog.Cancel asChild>
              <button type="button">Cancel</button>
            </AlertDialog.Cancel>
            <button
              type="button"
              className={props.danger ? 'danger' : 'primary'}
              disabled={busy}
              onClick={() => void run()}
            >
              {props.confirm ?? props.label}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

/** A used/total bar, labelled with its numbers for screen readers as for eyes. */
export function Bar({
  label,
  used,
  total,
  unit,
}: {
  label: string;
  used: number;
  total: number;
  unit: string;
}) {
  const pct = total > 0 ? Math.round((used / total) * 100) : 0;
  return (
    <div className="bar">
      <span>
        {label}: {used} / {total} {unit} reserved ({pct}%)
      </span>
      <div
        className="bar-track"
        role="meter"
        aria-label={`${label} reserved`}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={used}
      >
        <div className="bar-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

const ROW_HEIGHT = 37;

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  width?: string;
}

/**
 * A table that renders only the rows in view (thousands of tasks stay fast), keeping real table
 * semantics: spacer rows stand for the rows above and below, aria-rowcount tells the total.
 * Reaching the end asks for the next page, if any.
 */
export function VirtualTable<T>(props: {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  hasMore?: boolean;
  loadMore?: () => void;
  height?: number;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const maxHeight = props.height ?? 480;
  const virtualizer = useVirtualizer({
    count: props.rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    initialRect: { width: 0, height: maxHeight },
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  const nearEnd = !!last && last.index >= props.rows.length - 5;
  const { hasMore, loadMore } = props;
  useEffect(() => {
    if (nearEnd && hasMore) loadMore?.();
  }, [nearEnd, hasMore, loadMore]);
  const top = items[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (last?.end ?? 0);
  return (
    <>
      <div
        ref={parent}
        className="scroll"
        // A fixed height: the rows inside are only those that fit it.
        style={{ height: Math.min(maxHeight, (props.rows.length + 1) * ROW_HEIGHT + 2) }}
        tabIndex={0}
        role="region"
        aria-label={`${props.label} (scrollable)`}
      >
        <table aria-rowcount={props.rows.length + 1}>
          <caption className="sr-only">{props.label}</caption>
          <thead>
            <tr aria-rowindex={1}>
              {props.columns.map((c) => (
                <th key={c.header} scope="col" style={c.width ? { width: c.width } : undefined}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {top > 0 && (
              <tr aria-hidden="true" style={{ height: top }}>
                <td colSpan={props.columns.length} />
              </tr>
            )}
            {items.map((item) => {
              const row = props.rows[item.index]!;
              return (
                <tr key={props.rowKey(row)} aria-rowindex={item.index + 2} style={{ height: item.size }}>
                  {props.columns.map((c) => (
                    <td key={c.header}>{c.cell(row)}</td>
                  ))}
                </tr>
              );
            })}
            {bottom > 0 && (
              <tr aria-hidden="true" style={{ height: bottom }}>
                <td colSpan={props.columns.length} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {props.rows.length === 0 && <p>None.</p>}
      {props.hasMore && (
        <button type="button" onClick={() => props.loadMore?.()}>
          Load more
        </button>
      )}
    </>
  );
}

export function Status({ value }: { value: string | undefined }) {
  return <span className={`status status-${(value ?? '').toLowerCase()}`}>{value ?? '–'}</span>;
}

export const time = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '–');
