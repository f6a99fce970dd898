import {
  backendsOf,
  backendName,
  serverName,
  servableListeners,
  type Backend,
  type LoadBalancerState,
  type Listener,
  type Target,
  type TargetGroup,
} from './desired-state.js';

export interface RenderOptions {
  /** Address every listener binds, such as 127.0.0.1 or 0.0.0.0. */
  bindAddress: string;
  /** The admin stats socket (Runtime API), also handing listening sockets over on reload. */
  adminSocket: string;
  /** Where `show servers state` is saved before a reload, read back by the new worker. */
  serverStateFile: string;
}

/**
 * The haproxy.cfg for one load balancer. Pure. Servers in the file are the targets that are not
 * draining at the time of rendering: HAProxy 2.6 starts a worker with only the servers of its file,
 * so a reload must carry them, or the new worker would answer 503 until they are added again.
 * Between reloads, servers come and go through the Runtime API (`reconcile.ts`); the new worker
 * takes their health and admin state from the server-state file.
 */
export function renderConfig(lb: LoadBalancerState, opts: RenderOptions): string {
  return renderStructure(lb, opts, true);
}

/**
 * The config without its servers: what only a reload can change. Two states with the same
 * structure differ only in servers, which the Runtime API handles.
 */
export function configStructure(lb: LoadBalancerState, opts: RenderOptions): string {
  return renderStructure(lb, opts, false);
}

function renderStructure(lb: LoadBalancerState, opts: RenderOptions, withServers: boolean): string {
  const lines: string[] = [
    `# load balancer ${lb.name}: written by @berth/load-balancer, do not edit`,
    'global',
    '  master-worker',
    `  stats socket ${opts.adminSocket} mode 600 level admin expose-fd listeners`,
    `  server-state-file ${opts.serverStateFile}`,
    '',
    'defaults',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-request 10s',
    '  timeout queue 10s',
    // A connection refused by a target that just went away is retried on another one.
    '  retries 3',
    '  option redispatch 1',
    '  load-server-state-from-file global',
  ];
  for (const listener of servableListeners(lb)) lines.push('', ...frontend(lb, listener, opts));
  for (const backend of backendsOf(lb)) lines.push('', ...backendLines(backend, withServers));
  return lines.join('\n') + '\n';
}

export function frontendName(listener: Listener): string {
  return `listener-${listener.port}`;
}

function groupById(lb: LoadBalancerState, id: string): TargetGroup {
  return lb.targetGroups.find((g) => g.id === id)!;
}

function frontend(lb: LoadBalancerState, listener: Listener, opts: RenderOptions): string[] {
  const pp = listener.protocol === 'TCP' && listener.proxyProtocol;
  const lines = [`frontend ${frontendName(listener)}`, `  bind ${opts.bindAddress}:${listener.port}`];
  if (listener.protocol === 'TCP') {
    lines.push('  mode tcp');
  } else {
    lines.push(
      '  mode http',
      '  option forwardfor',
      '  http-request set-header X-Forwarded-Proto http',
      `  http-request set-header X-Forwarded-Port ${listener.port}`,
    );
    // Rules in priority order; the first that matches wins, as on an ALB.
    const rules = [...listener.rules].sort((a, b) => a.priority - b.priority);
    for (const rule of rules) {
      const conds: string[] = [];
      if (rule.pathPrefix) {
        lines.push(`  acl rule${rule.priority}_path path_beg ${quote(rule.pathPrefix)}`);
        conds.push(`rule${rule.priority}_path`);
      }
      if (rule.host) {
        lines.push(`  acl rule${rule.priority}_host hdr(host),field(1,:) -i ${quote(rule.host)}`);
        conds.push(`rule${rule.priority}_host`);
      }
      if (conds.length === 0) continue;
      lines.push(`  use_backend ${backendName(groupById(lb, rule.targetGroupId), pp)} if ${conds.join(' ')}`);
    }
  }
  lines.push(`  default_backend ${backendName(groupById(lb, listener.defaultTargetGroupId), pp)}`);
  return lines;
}

function backendLines(backend: Backend, withServers: boolean): string[] {
  const { group } = backend;
  const hc = group.healthCheck;
  const lines = [`backend ${backend.name}`, `  mode ${group.protocol === 'TCP' ? 'tcp' : 'http'}`];
  // roundrobin: a dynamic algorithm, which servers added at run time require.
  lines.push('  balance roundrobin', `  timeout check ${hc.timeoutSeconds}s`);
  if (group.protocol === 'HTTP') {
    lines.push(`  option httpchk GET ${hc.path ?? '/'}`, `  http-check expect ${expectStatus(hc.matcher)}`);
  }
  if (withServers) {
    for (const target of group.targets) {
      if (target.drainingSince) continue;
      lines.push(`  server ${serverName(target)} ${target.host}:${target.port} ${serverOptions(backend)}`);
    }
  }
  return lines;
}

/** Every target weighs the same, as on an ALB with round robin. */
export const SERVER_WEIGHT = 100;

/**
 * The options of one server line, the same in the file and in `add server` (dynamic servers in
 * 2.6 do not inherit `default-server`).
 */
export function serverOptions(backend: Backend, weight = SERVER_WEIGHT): string {
  const hc = backend.group.healthCheck;
  const opts = [
    'check',
    `inter ${hc.intervalSeconds}s`,
    `rise ${hc.healthyThresholdCount}`,
    `fall ${hc.unhealthyThresholdCount}`,
    `weight ${weight}`,
  ];
  if (backend.group.slowStartSeconds > 0) opts.push(`slowstart ${backend.group.slowStartSeconds}s`);
  if (backend.proxyProtocol) opts.push('send-proxy-v2');
  return opts.join(' ');
}

/** The address of a target as HAProxy prints it. */
export function targetAddress(target: Target): string {
  return `${target.host}:${target.port}`;
}

/**
 * ELB's matcher ("200", "200-299", "200,302") as an `http-check expect` argument: one code as
 * `status`, anything else as an anchored `rstatus` alternation.
 */
export function expectStatus(matcher: string | null): string {
  const m = (matcher ?? '200').replace(/\s+/g, '');
  if (/^\d{3}$/.test(m)) return `status ${m}`;
  const codes: string[] = [];
  for (const part of m.split(',')) {
    const range = /^(\d{3})-(\d{3})$/.exec(part);
    if (range) {
      for (let c = Number(range[1]); c <= Number(range[2]); c++) codes.push(String(c));
    } else if (/^\d{3}$/.test(part)) {
      codes.push(part);
    } else {
      throw new Error(`invalid health check matcher ${JSON.stringify(matcher)}`);
    }
  }
  return `rstatus ^(${codes.join('|')})$`;
}

/** HAProxy words with spaces or quotes are quoted; plain ones are left as they are. */
function quote(word: string): string {
  return /^[A-Za-z0-9_./:*-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
