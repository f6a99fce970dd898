/** The API's shapes, as far as the console reads them. */
export interface Cluster {
  clusterName: string;
  status: string;
  activeServicesCount: number;
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
}
export interface Resource {
  name: string;
  integerValue?: number;
  stringSetValue?: string[];
}
export interface Instance {
  containerInstanceArn: string;
  status: string;
  agentConnected: boolean;
  hostAddress: string;
  agentVersion?: string;
  registeredResources: Resource[];
  remainingResources: Resource[];
  attributes: { name: string; value?: string }[];
  runningTasksCount: number;
  pendingTasksCount: number;
  registeredAt: string;
  lastHeartbeatAt?: string;
}
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
  events?: ServiceEvent[];
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
export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: string;
  registeredAt: string;
  containerDefinitions: { name: string; image: string }[];
  [key: string]: unknown;
}
export interface AuditEvent {
  id: string;
  eventTime: string;
  accessKeyId: string | null;
  action: string;
  resource: string;
  outcome: string;
  statusCode: number;
  errorCode: string | null;
  errorMessage?: string | null;
  sourceAddress: string;
}
export interface BerthEvent {
  id: string;
  'detail-type': string;
  time: string;
  resources: string[];
  detail: Record<string, unknown>;
}
