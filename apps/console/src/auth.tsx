import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '@berth/api-client';
import { enc, get, session } from './api';
import { ErrorMessage } from './ui';

/** The actions whose buttons the console shows, asked of GET /v1/whoami per cluster. */
export const CLUSTER_ACTIONS = [
  'ecs:RunTask',
  'ecs:StopTask',
  'ecs:CreateService',
  'ecs:UpdateService',
  'ecs:DeleteService',
  'ecs:UpdateContainerInstancesState',
  'ecs:DeregisterContainerInstance',
  'ecs:ExecuteCommand',
] as const;
export const GLOBAL_ACTIONS = [
  'ecs:RegisterTaskDefinition',
  'ecs:DeregisterTaskDefinition',
  'berth:ListAuditEvents',
] as const;

interface Whoami {
  accessKeyId: string;
  allowed: Record<string, boolean>;
}

/**
 * What the signed-in key may do on a cluster (or anywhere, without one). Only hides buttons that
 * would be refused: the API checks every call whatever the console shows.
 */
export function useAllowed(cluster?: string) {
  const actions = cluster ? CLUSTER_ACTIONS : GLOBAL_ACTIONS;
  const q = useQuery({
    queryKey: ['whoami', cluster ?? '*'],
    queryFn: () =>
      get<Whoami>(`/v1/whoami?actions=${actions.join(',')}${cluster ? `&cluster=${enc(cluster)}` : ''}`),
    staleTime: 60_000,
  });
  return (action: string) => q.data?.allowed[action] === true;
}

export function useWhoami() {
  return useQuery({ queryKey: ['whoami'], queryFn: () => get<Whoami>('/v1/whoami'), staleTime: 60_000 });
}

/** The sign-in form: the key is checked with GET /v1/whoami before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const client = useQueryClient();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const token = key.trim();
    if (!/^[^:\s]+:\S+$/.test(token)) {
      setError(new Error('An access key is <accessKeyId>:<secretAccessKey>, as in .berth/admin-token'));
      return;
    }
    session.signIn(token);
    try {
      await get<Whoami>('/v1/whoami');
      client.clear();
      onSignedIn();
    } catch (err) {
      session.signOut();
      setError(
        err instanceof ApiError && err.status === 401 ? new Error(`Sign-in refused: ${err.message}`) : err,
      );
    }
  };
  return (
    <main className="signin">
      <h1>Berth console</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="key">Access key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="off"
          placeholder="BKIA…:secret"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby="key-help"
        />
        <p id="key-help" className="help">
          <code>accessKeyId:secretAccessKey</code>; kept in this tab&apos;s session storage only.
        </p>
        <button type="submit" className="primary">
          Sign in
        </button>
        <ErrorMessage error={error} />
      </form>
    </main>
  );
}
