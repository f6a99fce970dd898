import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InvalidParameterError } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ServiceDeploymentsService } from './service-deployments.service.js';

const date = (value: string | undefined, field: string) => {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidParameterError(`${field}: must be an ISO 8601 time`, field);
  return d;
};

@ApiTags('services')
@Controller('v1/clusters/:cluster/services/:service/deployments')
export class ServiceDeploymentsController {
  constructor(private readonly deployments: ServiceDeploymentsService) {}

  @Get()
  @Action('ecs:ListServiceDeployments')
  @ApiOperation({
    summary:
      'ListServiceDeployments: the service deployments, newest first, as DescribeServiceDeployments shows them',
  })
  @ApiQuery({
    name: 'status',
    required: false,
    description: 'comma-separated ECS service deployment statuses',
  })
  @ApiQuery({ name: 'createdAfter', required: false })
  @ApiQuery({ name: 'createdBefore', required: false })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') cluster: string,
    @Param('service') service: string,
    @Query()
    q: {
      status?: string;
      createdAfter?: string;
      createdBefore?: string;
      maxResults?: string;
      nextToken?: string;
    },
  ) {
    return this.deployments.list(cluster, service, {
      status: q.status?.split(','),
      createdAfter: date(q.createdAfter, 'createdAfter'),
      createdBefore: date(q.createdBefore, 'createdBefore'),
      maxResults: q.maxResults,
      nextToken: q.nextToken,
    });
  }
}
