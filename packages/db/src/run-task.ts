import {
  assertClusterPolicyAllows,
  InvalidParameterError,
  launchTargetWarnings,
  NotFoundError,
  parsePropagateTags,
  parseTags,
  parseTaskDefinitionRef,
  readTaskDefinition,
  storedTags,
  taskReservation,
  taskTags,
  validateOverrides,
  validateRunTask,
  type PropagateTags,
  type RunTaskInput,
  type Tag,
  type TaskOverrides,
} from '@berth/domain';
import { parseConstraints, parseStrategies, RUN_TASK_DEFAULT_STRATEGY } from '@berth/scheduler-core';
import type { ClusterModel, TaskDefinitionModel } from './client.js';
import { claimClientToken, recordClientTokenResources, type ClientTokenClaim } from './client-tokens.js';
import type { SqlExecutor } from './sql.js';
import { taskDefinitionByName } from './task-definitions.js';
import { createTasks, type CreatedTask } from './tasks.js';

/**
 * RunTask, shared by its two callers: the api-gateway (RunTask through either door) and the
 * deployment-controller (a schedule's firing). Both check a request the same way and write its
 * tasks the same way, clientToken included.
 */

/** A RunTask request checked as far as it can be without reading anything (400s). */
export interface RunTaskRequest {
  input: RunTaskInput;
  ownTags: Tag[];
  propagateTags: PropagateTags;
}

export function checkRunTask(body: unknown): RunTaskRequest {
  const input = validateRunTask(body);
  // Checked here for every caller; the gateway's doors present the warnings each in its own way.
  launchTargetWarnings(body);
  const ownTags = parseTags(input.tags);
  const propagateTags = parsePropagateTags((body as { propagateTags?: unknown }).propagateTags, true);
  parseConstraints(input.placementConstraints);
  parseStrategies(input.placementStrategy);
  return { input, ownTags, propagateTags };
}

/** A revision by family (its latest ACTIVE revision) or family:revision; 400 ClientException if none. */
export async function findTaskDefinition(
  db: SqlExecutor,
  family: string,
  revision?: number,
): Promise<TaskDefinitionModel> {
  const td = await taskDefinitionByName(db, family, revision);
  if (!td) {
    const what = revision === undefined ? `an ACTIVE revision of family ${family}` : `${family}:${revision}`;
    throw new NotFoundError('ClientException', `task definition ${what} does not exist`, 'taskDefinition');
  }
  return td;
}

/**
 * The revision new tasks start from (RunTask, StartTask, a schedule's firing): it must be ACTIVE,
 * the overrides must fit it, and the cluster's container policy must allow it.
 */
export interface LaunchableRevision {
  td: TaskDefinitionModel;
  definition: ReturnType<typeof readTaskDefinition>;
}

export async function launchableRevision(
  db: SqlExecutor,
  cluster: ClusterModel,
  taskDefinition: string,
  overrides: TaskOverrides | undefined,
): Promise<LaunchableRevision> {
  const ref = parseTaskDefinitionRef(taskDefinition);
  const td = await findTaskDefinition(db, ref.family, ref.revision);
  const name = `${td.family}:${td.revision}`;
  if (td.status !== 'ACTIVE') {
    throw new InvalidParameterError(
      `taskDefinition: ${name} is INACTIVE (deregistered); no new tasks can start from it`,
      'taskDefinition',
    );
  }
  const definition = readTaskDefinition(td.definition, name);
  validateOverrides(definition, name, overrides);
  assertClusterPolicyAllows(cluster, name, definition);
  return { td, definition };
}

/**
 * Writes RunTask's `count` PROVISIONING tasks and their containers. With a client token it takes
 * the token first (ClientTokenTaken if another call holds it) and records the task ids. Call it
 * in a transaction, so that all of it is written or none.
 */
export async function writeRunTasks(
  tx: SqlExecutor,
  cluster: ClusterModel,
  revision: LaunchableRevision,
  request: RunTaskRequest,
  claim?: ClientTokenClaim,
): Promise<CreatedTask[]> {
  const { td, definition } = revision;
  const { input } = request;
  if (claim) await claimClientToken(tx, claim);
  // propagateTags TASK_DEFINITION: the definition's tags, with the call's own over them.
  const tags = taskTags(request.propagateTags, { taskDefinition: storedTags(td.tags) }, request.ownTags);
  const reservation = taskReservation(definition, input.overrides);
  const tasks = await createTasks(tx, {
    clusterId: cluster.id,
    taskDefinition: td,
    count: input.count,
    startedBy: input.startedBy,
    group: input.group,
    overrides: input.overrides,
    placementConstraints: (input.placementConstraints as unknown[] | undefined) ?? [],
    placementStrategy: [...((input.placementStrategy as unknown[] | undefined) ?? RUN_TASK_DEFAULT_STRATEGY)],
    cpu: reservation.cpu,
    memory: reservation.memory,
    tags,
    enableExecuteCommand: input.enableExecuteCommand,
  });
  if (claim)
    await recordClientTokenResources(
      tx,
      claim,
      tasks.map((t) => t.id),
    );
  return tasks;
}
