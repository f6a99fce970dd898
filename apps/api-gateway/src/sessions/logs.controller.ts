import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parseLogsQuery } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import type { BerthRequest } from '../auth/request-context.js';
import { AuditLog } from '../audit/audit-log.js';
import { ContainerSessionsService } from './container-sessions.service.js';

/**
 * A container's stdout and stderr, read from Docker by the agent that runs (or ran) the task and
 * streamed as plain text as it arrives (docs/observability.md). Each write's completion is what
 * the agent is acked for, so a slow reader slows its own session and nothing else.
 */
@ApiTags('tasks')
@Controller('v1/clusters/:cluster/tasks/:task/logs')
export class LogsController {
  constructor(
    private readonly sessions: ContainerSessionsService,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Action('ecs:GetTaskLogs')
  @ApiOperation({ summary: 'A container’s stdout and stderr, as text; follow=true streams until it stops' })
  @ApiQuery({ name: 'container', required: false, description: 'needed for a task of several containers' })
  @ApiQuery({ name: 'tail', required: false, description: 'the last N lines, or all (the default)' })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601 or Unix seconds' })
  @ApiQuery({ name: 'until', required: false, description: 'ISO 8601 or Unix seconds' })
  @ApiQuery({ name: 'follow', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'timestamps', required: false, enum: ['true', 'false'] })
  async logs(
    @Param('cluster') cluster: string,
    @Param('task') taskRef: string,
    @Query() query: Record<string, string | undefined>,
    @Req() req: BerthRequest,
    @Res() res: Response,
  ): Promise<void> {
    const q = parseLogsQuery(query);
    const { task, containerName } = await this.sessions.target(cluster, taskRef, q.container);
    const session = await this.sessions.open(task, {
      containerName,
      kind: {
        $case: 'logs',
        value: {
          tail: q.tail,
          sinceMs: q.sinceMs,
          untilMs: q.untilMs,
          follow: q.follow,
          timestamps: q.timestamps,
        },
      },
    });
    // Reading a container's output is audited like a change: it may hold what a secret printed.
    await this.audit.recordRequest(req, 'Success', 200);
    res.status(200);
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    res.flushHeaders();
    res.on('close', () => session.close());
    session.attach({
      onData: (_stream, data) => {
        res.write(data, () => session.consumed(data.length));
      },
      onEnd: (end) => {
        if (end.error) res.write(`\n[berth: the log stream ended early: ${end.error}]\n`);
        res.end();
      },
    });
  }
}
