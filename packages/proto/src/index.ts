export * from './gen/berth/agent/v1/agent.js';
