import type { CreateContainerSpec } from './container-runtime.js';

/** A container spec with every field at its empty value, for runtime tests to override. */
export function createSpecFixture(
  over: Partial<CreateContainerSpec> & { name: string },
): CreateContainerSpec {
  return {
    image: 'berth/busybox',
    labels: {},
    command: [],
    entryPoint: [],
    environment: [],
    cpuShares: 0,
    memoryMiB: 0,
    memoryReservationMiB: 0,
    portMappings: [],
    hostAddress: '127.0.0.2',
    stopTimeoutSeconds: 5,
    init: false,
    networkMode: 'bridge',
    network: 'berth-task-t',
    alias: over.name,
    binds: [],
    volumesFrom: [],
    workingDirectory: '',
    user: '',
    ulimits: [],
    capAdd: [],
    capDrop: [],
    readonlyRootFilesystem: false,
    privileged: false,
    noNewPrivileges: false,
    pidsLimit: 0,
    hostname: '',
    extraHosts: [],
    ...over,
  };
}
