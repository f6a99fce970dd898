import { jestConfig } from '../jest.preset.js';
// End-to-end tests start real processes and containers: one file at a time, generous timeouts.
export default jestConfig({ testTimeout: 120_000 });
