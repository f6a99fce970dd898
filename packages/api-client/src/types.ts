/**
 * The REST API's answers as both the console and the CLI read them (the api-gateway writes them
 * in `apps/api-gateway/src/http/views.ts`). Fields neither app reads are left out.
 */

export interface Deployment {
  id: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  failedTasks: number;
  circuitBreakerThreshold: number;
  rolloutState: string;
  rolloutStateReason?: string;
  /** A circuit-breaker rollback: the FAILED deployment it replaces. */
  rolledBackFrom?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface ServiceEvent {
  id: string;
  createdAt: string;
  message: string;
}

export interface Service {
  serviceArn: string;
  serviceName: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  deploymentConfiguration: {
    minimumHealthyPercent: number;
    maximumPercent: number;
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
  };
  enableExecuteCommand: boolean;
  deployments: Deployment[];
  events: ServiceEvent[];
}

export interface NetworkBinding {
  bindIP: string;
  hostPort: number;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image?: string;
  runtimeId?: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  healthStatus?: string;
  networkBindings: NetworkBinding[];
}

export interface Task {
  taskArn: string;
  taskDefinitionArn: string;
  containerInstanceArn?: string;
  lastStatus: string;
  desiredStatus: string;
  healthStatus?: string;
  group?: string;
  startedBy?: string;
  stopCode?: string;
  stoppedReason?: string;
  enableExecuteCommand: boolean;
  cpu: string;
  memory: string;
  containers: Container[];
  createdAt: string;
  startedAt?: string;
  stoppedAt?: string;
}

/** A state change as an EventBridge-style event (GET /v1/events, and its Server-Sent Events). */
export interface BerthEvent {
  id: string;
  'detail-type': string;
  time: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** POST .../tasks/{task}/exec: a one-time WebSocket, its token used once in the socket's URL. */
export interface ExecSession {
  session: { sessionId: string; streamUrl: string; tokenValue: string };
}
