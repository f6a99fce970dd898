/** The agent's version: sent in every Register, printed by `--version`. Keep it in step with package.json. */
export const AGENT_VERSION = '0.1.0';
