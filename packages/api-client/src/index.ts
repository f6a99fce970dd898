export { ApiClient, ApiError, type ApiClientOptions } from './client.js';
export type * from './types.js';
