/** The API's shapes only the console reads; those the CLI reads too are in `@berth/api-client`. */
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
