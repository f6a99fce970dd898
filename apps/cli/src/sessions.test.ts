import { execOutcome, logsQuery } from './sessions.js';

test.each([
  [{ follow: false, timestamps: false }, ''],
  [{ follow: true, timestamps: true, tail: '100' }, '?tail=100&follow=true&timestamps=true'],
  [
    {
      follow: false,
      timestamps: false,
      container: 'web',
      since: '2026-11-28T00:00:00Z',
      until: '1795825200',
    },
    '?container=web&since=2026-11-28T00%3A00%3A00Z&until=1795825200',
  ],
])('logsQuery(%j) is %s', (options, query) => {
  expect(logsQuery(options)).toBe(query);
});

test('execOutcome reads the exit code or the error, and ignores anything else', () => {
  expect(execOutcome('{"exitCode": 3}')).toEqual({ exitCode: 3 });
  expect(execOutcome('{"error": "the agent is not connected"}')).toEqual({
    error: 'the agent is not connected',
  });
  expect(execOutcome('{"resize": {}}')).toBeNull();
  expect(execOutcome('not json')).toBeNull();
});
