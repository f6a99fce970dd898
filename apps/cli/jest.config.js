import { jestConfig } from '../../jest.preset.js';
// The HAProxy tests wait for health checks, drains and reloads.
export default jestConfig({ testTimeout: 120_000 });
