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
  /** ECS's statuses, ACTIVE unless asked otherwise (as in ECS), or ALL for every revision. */
  status?: string;
  /** ECS's `sort`: ASC (the default) or DESC, by family then revision. */
  sort?: string;
  maxResults?: string;
  nextToken?: string;
}

const STATUSES = ['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'];
/** DeleteTaskDefinitions takes at most 10 revisions. */
const DELETE_MAX = 10;

/** A DeleteTaskDefinitions entry that was not deleted, and why. */
export interface TaskDefinitionFailure {
  ref: string;
  /** family and revision, when the entry named one. */
  revision?: { family: string; revision: number };
  reason: string;
  detail?: string;
}

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
    // ECS lists ACTIVE revisions unless asked otherwise, through either door.
    const status = q.status ?? 'ACTIVE';
    checkStatus(status, [...STATUSES, 'ALL']);
    if (q.sort !== undefined && q.sort !== 'ASC' && q.sort !== 'DESC')
      throw new InvalidParameterError('sort: must be ASC or DESC', 'sort');
    const { limit, after } = parsePage(q, cursors.familyRevision);
    const taskDefinitions = await this.taskDefinitions.list(
      {
        familyPrefix: q.familyPrefix,
        status: status === 'ALL' ? undefined : status,
        descending: q.sort === 'DESC',
      },
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

  /**
   * DeleteTaskDefinitions: each INACTIVE revision (family:revision or ARN) becomes
   * DELETE_IN_PROGRESS and is removed once nothing refers to it; an ACTIVE one, a revision that
   * does not exist or an entry without a revision is a failure.
   */
  async deleteMany(
    refs: readonly string[],
  ): Promise<{ deleted: TaskDefinitionModel[]; failures: TaskDefinitionFailure[] }> {
    if (refs.length === 0 || refs.length > DELETE_MAX)
      throw new InvalidParameterError(
        `taskDefinitions: must list 1-${DELETE_MAX} task definition revisions`,
        'taskDefinitions',
      );
    const failures: TaskDefinitionFailure[] = [];
    const wanted: { ref: string; family: string; revision: number }[] = [];
    for (const ref of refs) {
      let parsed;
      try {
        parsed = parseTaskDefinitionRef(ref, 'taskDefinitions');
      } catch {
        failures.push({ ref, reason: 'INVALID', detail: 'not a task definition ARN or family:revision' });
        continue;
      }
      if (parsed.revision === undefined)
        failures.push({ ref, reason: 'INVALID', detail: 'the revision is required (family:revision)' });
      else wanted.push({ ref, family: parsed.family, revision: parsed.revision });
    }
    const rows = await this.taskDefinitions.findMany(wanted);
    const byKey = new Map(rows.map((td) => [`${td.family}:${td.revision}`, td]));
    const deletable: TaskDefinitionModel[] = [];
    for (const w of wanted) {
      const td = byKey.get(`${w.family}:${w.revision}`);
      const revision = { family: w.family, revision: w.revision };
      if (!td) failures.push({ ref: w.ref, revision, reason: 'MISSING' });
      else if (td.status === 'ACTIVE')
        failures.push({
          ref: w.ref,
          revision,
          reason: 'TASK_DEFINITION_ACTIVE',
          detail: 'The specified task definition is still in ACTIVE status. Deregister it and try again.',
        });
      else if (!deletable.includes(td)) deletable.push(td);
    }
    const marked = await this.taskDefinitions.markDeleted(deletable.map((td) => td.id));
    const markedIds = new Map(marked.map((td) => [td.id, td]));
    return { deleted: deletable.flatMap((td) => markedIds.get(td.id) ?? []), failures };
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
