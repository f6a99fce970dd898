import { createLogger, runMain } from '@berth/config';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './app.js';

runMain('api-gateway', async () => {
  const config = loadGatewayConfig();
  const { httpPort, grpcPort, metricsPort } = await startGateway(config);
  createLogger('api-gateway', config.BERTH_LOG_LEVEL).info(
    {
      http: `${config.BERTH_HTTP_HOST}:${httpPort}`,
      grpc: `${config.BERTH_GRPC_HOST}:${grpcPort}`,
      metrics: `${config.BERTH_METRICS_HOST}:${metricsPort}`,
    },
    'api-gateway started',
  );
});
