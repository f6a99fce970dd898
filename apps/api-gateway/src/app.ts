import { RegistryCredentialsController } from './registry-credentials/registry-credentials.controller.js';
import { RegistryCredentialsRepository } from './registry-credentials/registry-credentials.repository.js';
import { RegistryCredentialsService } from './registry-credentials/registry-credentials.service.js';
import { SecretsController } from './secrets/secrets.controller.js';
import { SchedulesController } from './schedules/schedules.controller.js';
import { SchedulesRepository } from './schedules/schedules.repository.js';
import { SchedulesService } from './schedules/schedules.service.js';
import { SecretsRepository } from './secrets/secrets.repository.js';
import { SecretsService } from './secrets/secrets.service.js';
import { TargetGroupsController } from './load-balancing/target-groups.controller.js';
import { LoadBalancersController } from './load-balancing/load-balancers.controller.js';
import { LoadBalancingRepository } from './load-balancing/load-balancing.repository.js';
import { LoadBalancingService } from './load-balancing/load-balancing.service.js';
import 'reflect-metadata';
import {
  Inject,
  Module,
  type DynamicModule,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GatewayConfig } from './config.js';
import {
  HINTS,
  infraProviders,
  LOGGER,
  type Logger,
  PRISMA,
  REDIS,
  REDIS_SUBSCRIBER,
  type PrismaClient,
  type Redis,
} from './infra/providers.js';
import type { Hints } from '@berth/queues';
import { ARN_CONTEXT } from './http/arn-context.js';
import { ErrorsFilter } from './http/errors.filter.js';
import { PathParametersPipe, refuseMalformedInput } from './http/request-input.js';
import { HealthController } from './http/health.controller.js';
import { ClustersController } from './clusters/clusters.controller.js';
import { ClustersRepository } from './clusters/clusters.repository.js';
import { TagsController } from './tags/tags.controller.js';
import { TagsRepository } from './tags/tags.repository.js';
import { TagsService } from './tags/tags.service.js';
import { ServiceDeploymentsRepository } from './services/service-deployments.repository.js';
import { ServiceDeploymentsService } from './services/service-deployments.service.js';
import { ServiceDeploymentsController } from './services/service-deployments.controller.js';
import { ClusterPolicyController } from './clusters/cluster-policy.controller.js';
import { TaskDefinitionsController } from './task-definitions/task-definitions.controller.js';
import { TaskDefinitionsRepository } from './task-definitions/task-definitions.repository.js';
import { TasksController } from './tasks/tasks.controller.js';
import { TasksRepository } from './tasks/tasks.repository.js';
import { TasksService } from './tasks/tasks.service.js';
import { TaskProtectionController } from './tasks/task-protection.controller.js';
import { TaskProtectionRepository } from './tasks/task-protection.repository.js';
import { TaskProtectionService } from './tasks/task-protection.service.js';
import { StartTaskController } from './tasks/start-task.controller.js';
import { StartTaskRepository } from './tasks/start-task.repository.js';
import { StartTaskService } from './tasks/start-task.service.js';
import { ContainerInstancesController } from './container-instances/container-instances.controller.js';
import { ContainerInstancesRepository } from './container-instances/container-instances.repository.js';
import { ContainerInstancesService } from './container-instances/container-instances.service.js';
import { AgentServer } from './agents/agent-server.js';
import { ServicesController } from './services/services.controller.js';
import { AttributesController } from './attributes/attributes.controller.js';
import { ServicesRepository } from './services/services.repository.js';
import { ServicesService } from './services/services.service.js';
import { AgentsRepository } from './agents/agents.repository.js';
import { KEY_RING, type KeyRing } from './crypto/key-ring.js';
import { AccessKeysController } from './auth/access-keys.controller.js';
import { WhoamiController } from './auth/whoami.controller.js';
import { AccessKeysRepository } from './auth/access-keys.repository.js';
import { AccessKeysService } from './auth/access-keys.service.js';
import { Authenticator } from './auth/authenticator.js';
import { AuthGuard } from './auth/auth.guard.js';
import type { BerthRequest } from './auth/request-context.js';
import { AuditController } from './audit/audit.controller.js';
import { AuditInterceptor } from './audit/audit.interceptor.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuditService } from './audit/audit.service.js';
import { toErrorResponse } from './http/errors.filter.js';
import { CertificateAuthority } from './identity/certificate-authority.js';
import { JoinTokensController } from './identity/join-tokens.controller.js';
import { JoinTokensRepository } from './identity/join-tokens.repository.js';
import { JoinTokensService } from './identity/join-tokens.service.js';
import { AgentJoin } from './identity/agent-join.js';
import { ClustersService } from './clusters/clusters.service.js';
import { TaskDefinitionsService } from './task-definitions/task-definitions.service.js';
import { EcsController } from './ecs/ecs.controller.js';
import { EcsActions } from './ecs/ecs-actions.js';
import { ecsBodyParser } from './ecs/ecs-protocol.js';
import { EventsController } from './events/events.controller.js';
import { EventsRepository } from './events/events.repository.js';
import { EventsService } from './events/events.service.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { StatsController } from './stats/stats.controller.js';
import { ScalingController } from './scaling/scaling.controller.js';
import { ScalingRepository } from './scaling/scaling.repository.js';
import { ScalingService } from './scaling/scaling.service.js';
import { StatsRepository } from './stats/stats.repository.js';
import { StatsService } from './stats/stats.service.js';
import { SessionRelay } from './sessions/session-relay.js';
import { ContainerSessionsRepository } from './sessions/container-sessions.repository.js';
import { ContainerSessionsService } from './sessions/container-sessions.service.js';
import { LogsController } from './sessions/logs.controller.js';
import { ExecController } from './sessions/exec.controller.js';
import { ExecService } from './sessions/exec.service.js';
import { ExecSocket } from './sessions/exec.socket.js';
import { consoleFiles } from './console/console-files.js';

/** Closes the outside connections after everything else has stopped. */
class Connections implements OnApplicationShutdown {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(HINTS) private readonly hints: Hints,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.hints.close();
    await this.db.$disconnect();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}

@Module({})
export class GatewayModule {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        ClustersController,
        ClusterPolicyController,
        TaskDefinitionsController,
        TasksController,
        TaskProtectionController,
        StartTaskController,
        ContainerInstancesController,
        ServicesController,
        AttributesController,
        RegistryCredentialsController,
        SecretsController,
        SchedulesController,
        AccessKeysController,
        WhoamiController,
        AuditController,
        JoinTokensController,
        TagsController,
        ServiceDeploymentsController,
        TargetGroupsController,
        LoadBalancersController,
        EventsController,
        EcsController,
        StatsController,
        ScalingController,
        LogsController,
        ExecController,
      ],
      providers: [
        ...infraProviders(config),
        { provide: ARN_CONTEXT, useValue: { region: config.BERTH_REGION, account: config.BERTH_ACCOUNT } },
        { provide: APP_FILTER, useClass: ErrorsFilter },
        { provide: APP_PIPE, useClass: PathParametersPipe },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        {
          provide: AccessKeysRepository,
          useFactory: (db: PrismaClient, keys: KeyRing) => new AccessKeysRepository(db, keys),
          inject: [PRISMA, KEY_RING],
        },
        {
          provide: Authenticator,
          useFactory: (keys: AccessKeysRepository, logger: Logger) => new Authenticator(keys, logger),
          inject: [AccessKeysRepository, LOGGER],
        },
        AccessKeysService,
        AuditRepository,
        AuditService,
        AuditLog,
        Connections,
        ClustersRepository,
        ClustersService,
        TaskDefinitionsRepository,
        TaskDefinitionsService,
        EcsActions,
        TasksRepository,
        TasksService,
        TaskProtectionRepository,
        TaskProtectionService,
        StartTaskRepository,
        StartTaskService,
        ContainerInstancesRepository,
        ContainerInstancesService,
        AgentsRepository,
        AgentServer,
        SessionRelay,
        ContainerSessionsRepository,
        ContainerSessionsService,
        ExecService,
        ExecSocket,
        ServicesRepository,
        ServicesService,
        RegistryCredentialsRepository,
        RegistryCredentialsService,
        SecretsRepository,
        SecretsService,
        SchedulesRepository,
        SchedulesService,
        CertificateAuthority,
        JoinTokensRepository,
        JoinTokensService,
        AgentJoin,
        TagsRepository,
        TagsService,
        ServiceDeploymentsRepository,
        ServiceDeploymentsService,
        LoadBalancingRepository,
        LoadBalancingService,
        EventsRepository,
        EventsService,
        GatewayMetrics,
        StatsRepository,
        StatsService,
        ScalingRepository,
        ScalingService,
      ],
    };
  }
}

/**
 * Builds and starts the gateway: REST on BERTH_HTTP_PORT, the agent gRPC server on BERTH_GRPC_PORT,
 * Prometheus metrics on BERTH_METRICS_PORT.
 */
export async function startGateway(
  config: GatewayConfig,
): Promise<{ app: INestApplication; httpPort: number; grpcPort: number; metricsPort: number }> {
  const app = await NestFactory.create(GatewayModule.forConfig(config), {
    bodyParser: false,
    logger: ['error', 'warn'],
  });
  const metrics = app.get(GatewayMetrics);
  // Counted when the answer is sent, whoever answered (a controller, the guard, a middleware).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => metrics.observeRequest(req, res.statusCode, start));
    next();
  });
  // Every request gets an id, echoed in x-request-id and kept in its audit event.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = randomUUID();
    (req as BerthRequest).berth = { requestId };
    res.setHeader('x-request-id', requestId);
    next();
  });
  // The ECS protocol's body (application/x-amz-json-1.1) is read first, its bytes kept for SigV4.
  app.use(ecsBodyParser());
  app.use(express.json({ limit: '1mb' }));
  // Malformed JSON never reaches a controller: answer it here in the API's error shape.
  app.use(
    (err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
      if (err.type === 'entity.parse.failed') {
        res.status(400).json({
          error: 'SerializationException',
          message: `the request body is not valid JSON: ${err.message}`,
        });
        return;
      }
      if (err.type === 'entity.too.large') {
        res.status(413).json({ error: 'ClientException', message: 'the request body is larger than 1 MiB' });
        return;
      }
      next(err);
    },
  );
  app.use(refuseMalformedInput);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Berth API')
      .setDescription('A self-hosted container orchestrator with the model and API of Amazon ECS.')
      .setVersion('v1')
      .build(),
  );
  // The OpenAPI document is served outside the controllers, so it checks the key itself: any valid
  // key may read it.
  const authenticator = app.get(Authenticator);
  app.use('/docs', (req: Request, res: Response, next: NextFunction) => {
    authenticator.authenticate(req.headers.authorization).then(
      () => next(),
      (error: unknown) => {
        const [status, body] = toErrorResponse(error);
        res.status(status).json(body);
      },
    );
  });
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  app.use('/console', (req: Request, res: Response, next: NextFunction) => {
    // `/console` alone: relative asset paths resolve only under `/console/`.
    if (req.originalUrl === '/console') res.redirect(301, '/console/');
    else next();
  });
  app.use('/console', consoleFiles(config.BERTH_CONSOLE_DIR));
  app.enableShutdownHooks();
  // Exec sessions' WebSockets (GET /v1/exec-sessions/{id}) upgrade outside the controllers.
  app.get(ExecSocket).listen(app.getHttpServer());
  await app.listen(config.BERTH_HTTP_PORT, config.BERTH_HTTP_HOST);
  const address = app.getHttpServer().address() as { port: number };
  return { app, httpPort: address.port, grpcPort: app.get(AgentServer).port, metricsPort: metrics.port };
}
