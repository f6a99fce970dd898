import { Injectable } from '@nestjs/common';
import type { TaskDefinitionModel } from '@berth/db';
import {
  InvalidParameterError,
  cursors,
  nextPageToken,
  parsePage,
  parseTags,
  parseTaskDefinitionRef,
  storedTags,
  validateTaskDefinition,
  type TaskDefinitionWarning,
} from '@berth/domain';
import { parseConstraints } from '@berth/scheduler-core';
import { TaskDefinitionsRepository } from './task-definitions.repository.js';

export interface TaskDefinitionListQuery {
  familyPrefix?: string;
  /** ACTIVE, INACTIVE, or undefined for both. */
  status?: string;
  /** ECS's `sort`: ASC (the default) or DESC, by family then revision. */
  sort?: string;
  maxResults?: string;
  nextToken?: string;
}

const STATUSES = ['ACTIVE', 'INACTIVE'];

function checkStatus(status: string | undefined, allowed: readonly string[]): void {
  if (status !== undefined && !allowed.includes(status))
    throw new InvalidParameterError(`status: must be ${allowed.join(' or ')}`, 'status');
}

/** RegisterTaskDefinition and the rest, for REST and ECS alike. */
@Injectable()
export class TaskDefinitionsService {
  constructor(private readonly taskDefinitions: TaskDefinitionsRepository) {}

  /** The next revision of the family, its tags, and the fields kept but not acted on. */
  async register(body: unknown): Promise<{
    taskDefinition: TaskDefinitionModel;
    tags: unknown[];
    warnings: TaskDefinitionWarning[];
  }> {
    const valid = validateTaskDefinition(body);
    // ECS takes only memberOf constraints in a task definition; tasks add their own at run time.
    const constraints = parseConstraints(valid.definition.placementConstraints);
    const distinct = constraints.findIndex((c) => c.type === 'distinctInstance');
    if (distinct >= 0) {
      throw new InvalidParameterError(
        `placementConstraints[${distinct}].type: a task definition takes only memberOf constraints; give distinctInstance to RunTask or the service`,
        `placementConstraints[${distinct}].type`,
      );
    }
    const tags = parseTags(valid.definition.tags);
    const taskDefinition = await this.taskDefinitions.register(valid, tags);
    return { taskDefinition, tags: storedTags(taskDefinition.tags), warnings: valid.warnings };
  }

  async list(q: TaskDefinitionListQuery) {
    checkStatus(q.status, STATUSES);
    if (q.sort !== undefined && q.sort !== 'ASC' && q.sort !== 'DESC')
      throw new InvalidParameterError('sort: must be ASC or DESC', 'sort');
    const { limit, after } = parsePage(q, cursors.familyRevision);
    const taskDefinitions = await this.taskDefinitions.list(
      { familyPrefix: q.familyPrefix, status: q.status, descending: q.sort === 'DESC' },
      limit,
      after,
    );
    return {
      taskDefinitions,
      nextToken: nextPageToken(taskDefinitions, limit, (td) => [td.family, td.revision]),
    };
  }

  /**
   * Family names, as ListTaskDefinitionFamilies: ACTIVE lists families with an ACTIVE revision,
   * INACTIVE those without one, ALL (the default) every family.
   */
  async families(q: { familyPrefix?: string; status?: string; maxResults?: string; nextToken?: string }) {
    checkStatus(q.status, ['ACTIVE', 'INACTIVE', 'ALL']);
    const { limit, after } = parsePage(q, cursors.name);
    const families = await this.taskDefinitions.families(
      { familyPrefix: q.familyPrefix, status: q.status === 'ALL' ? undefined : q.status },
      limit,
      after,
    );
    return { families, nextToken: nextPageToken(families, limit, (f) => f) };
  }

  /** `family` (its latest ACTIVE revision), `family:revision` or an ARN. */
  async describe(ref: string): Promise<TaskDefinitionModel> {
    const { family, revision } = parseTaskDefinitionRef(ref);
    return this.taskDefinitions.find(family, revision);
  }

  async deregister(ref: string): Promise<TaskDefinitionModel> {
    const { family, revision } = parseTaskDefinitionRef(ref);
    if (revision === undefined) {
      throw new InvalidParameterError(
        'taskDefinition: deregistering needs family:revision',
        'taskDefinition',
      );
    }
    return this.taskDefinitions.deregister(family, revision);
  }
}
