import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Action } from '../auth/action.decorator.js';
import type { BerthRequest } from '../auth/request-context.js';
import { EventsService, LIST_EVENTS_ACTION, type EventsQuery } from './events.service.js';

/**
 * Live events in ECS's EventBridge shapes: a page of JSON, or with `follow=true` a Server-Sent
 * Events stream that resumes from Last-Event-ID (docs/observability.md, "Events").
 */
@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @Action(LIST_EVENTS_ACTION, { clusterFromQuery: true })
  @ApiOperation({
    summary:
      'Task, service, deployment and container instance state changes, as ECS EventBridge events; follow=true streams them (SSE)',
  })
  @ApiQuery({
    name: 'cluster',
    required: false,
    description: 'a cluster name or ARN; all allowed clusters without it',
  })
  @ApiQuery({ name: 'follow', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'after', required: false, description: 'an event id: start after it' })
  @ApiQuery({ name: 'maxResults', required: false, description: '1-100, without follow' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'with follow: resume after this event id',
  })
  async list(
    @Query() q: EventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: BerthRequest,
    @Res() res: Response,
  ): Promise<void> {
    const principal = req.berth.principal!;
    if (!this.events.isFollow(q)) {
      res.json(await this.events.list(principal, q));
      return;
    }
    const stream = await this.events.openFollow(principal, q, lastEventId);
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let closed = false;
    req.on('close', () => (closed = true));
    const sink = {
      get closed() {
        return closed || res.writableEnded;
      },
      write: (chunk: string) =>
        new Promise<void>((resolve) => {
          if (res.write(chunk) || closed) resolve();
          else {
            // A slow client: wait until it has taken what is buffered, or is gone.
            const go = () => {
              res.off('drain', go);
              res.off('close', go);
              resolve();
            };
            res.on('drain', go);
            res.on('close', go);
          }
        }),
    };
    await stream(sink);
    res.end();
  }
}
