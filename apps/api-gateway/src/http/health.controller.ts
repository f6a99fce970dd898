import { Controller, Get, Inject } from '@nestjs/common';
import { ServiceUnavailableError } from '@berth/domain';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PRISMA, REDIS, type PrismaClient, type Redis } from '../infra/providers.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('health')
@Controller('healthz')
export class HealthController {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get()
  @Action('berth:HealthCheck', { public: true })
  @ApiOperation({ summary: 'Liveness and readiness: 200 when Postgres and Redis answer' })
  async check() {
    const [postgres, redis] = await Promise.all([
      this.db.$queryRaw`SELECT 1`.then(
        () => 'ok',
        () => 'unavailable',
      ),
      this.redis.ping().then(
        () => 'ok',
        () => 'unavailable',
      ),
    ]);
    if (postgres !== 'ok' || redis !== 'ok') {
      throw new ServiceUnavailableError(`postgres: ${postgres}, redis: ${redis}`);
    }
    return { status: 'ok', postgres, redis };
  }
}
