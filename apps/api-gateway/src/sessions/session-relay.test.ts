import { encodeOpenRequest, parseOpenRequest } from './session-relay.js';

const open = {
  containerInstanceId: '6c1f3f8e-4a64-4a4e-9d0e-3a3f1e0b9a11',
  open: {
    sessionId: '0f7b8b38-0c55-4a7b-9e83-8ad2a84c3c7e',
    taskId: 'a4b0e3c5-4b9f-4c1e-8f6a-2f0d3c9b7e21',
    containerName: 'web',
    kind: {
      $case: 'logs' as const,
      value: { tail: 100, sinceMs: 0, untilMs: 0, follow: true, timestamps: false },
    },
  },
};

describe('open requests on the agent-sessions channel', () => {
  it('read back as they were sent', () => {
    expect(parseOpenRequest(encodeOpenRequest(open))).toEqual(open);
  });

  it.each([
    ['not JSON', 'nope'],
    ['no instance', JSON.stringify({ open: {} })],
    ['an instance that is not a UUID', encodeOpenRequest({ ...open, containerInstanceId: 'x' })],
    ['no session id', encodeOpenRequest({ ...open, open: { ...open.open, sessionId: '' } })],
    ['no kind', encodeOpenRequest({ ...open, open: { ...open.open, kind: undefined } })],
  ])('drop %s', (_what, message) => {
    expect(parseOpenRequest(message)).toBeUndefined();
  });
});
