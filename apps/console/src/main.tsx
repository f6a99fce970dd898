import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Link, NavLink, Outlet, Route, Routes, useParams } from 'react-router';
import { ApiError } from '@berth/api-client';
import { session } from './api';
import { SignIn, useWhoami } from './auth';
import { ClusterEvents } from './events';
import { ClustersPage, ClusterPage } from './pages/clusters';
import { CreateServicePage, ServicePage } from './pages/services';
import { TaskPage, TasksPage } from './pages/tasks';
import { InstancePage, InstancesPage } from './pages/instances';
import {
  RegisterTaskDefinitionPage,
  TaskDefinitionPage,
  TaskDefinitionsPage,
} from './pages/task-definitions';
import { AuditPage } from './pages/audit';
import { LoadBalancersPage } from './pages/load-balancers';
import './style.css';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // Live updates come from the event stream, which invalidates what changed: no polling.
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 2,
    },
  },
});

function Layout({ onSignOut }: { onSignOut: () => void }) {
  const me = useWhoami();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <Link to="/" className="brand">
          Berth
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Clusters
          </NavLink>
          <NavLink to="/task-definitions">Task definitions</NavLink>
          <NavLink to="/load-balancers">Load balancers</NavLink>
          <NavLink to="/audit">Audit log</NavLink>
        </nav>
        <span className="who">{me.data?.accessKeyId}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

function ClusterLayout() {
  const { cluster } = useParams() as { cluster: string };
  return (
    <ClusterEvents cluster={cluster}>
      <nav aria-label="Cluster" className="subnav">
        <strong>{cluster}</strong>
        <NavLink to={`/clusters/${cluster}`} end>
          Overview
        </NavLink>
        <NavLink to={`/clusters/${cluster}/tasks`}>Tasks</NavLink>
        <NavLink to={`/clusters/${cluster}/instances`}>Container instances</NavLink>
      </nav>
      <Outlet />
    </ClusterEvents>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  const signOut = () => {
    session.signOut();
    client.clear();
    setSignedIn(false);
  };
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <Routes>
      <Route element={<Layout onSignOut={signOut} />}>
        <Route index element={<ClustersPage />} />
        <Route path="clusters/:cluster" element={<ClusterLayout />}>
          <Route index element={<ClusterPage />} />
          <Route path="services/new" element={<CreateServicePage />} />
          <Route path="services/:service" element={<ServicePage />} />
          <Route path="tasks" element={<TasksPage />} />
          <Route path="tasks/:task" element={<TaskPage />} />
          <Route path="instances" element={<InstancesPage />} />
          <Route path="instances/:id" element={<InstancePage />} />
        </Route>
        <Route path="task-definitions" element={<TaskDefinitionsPage />} />
        <Route path="task-definitions/new" element={<RegisterTaskDefinitionPage />} />
        <Route path="task-definitions/:family" element={<TaskDefinitionPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="load-balancers" element={<LoadBalancersPage />} />
        <Route path="*" element={<p>No such page.</p>} />
      </Route>
    </Routes>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <BrowserRouter basename="/console">
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
