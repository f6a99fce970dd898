import { ClientError, InvalidParameterError } from './errors.js';
import {
  checkExecAllowed,
  chooseContainer,
  parseLogsQuery,
  splitCommand,
  validateExecuteCommand,
} from './container-sessions.js';

const fieldOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as InvalidParameterError).field;
  }
  throw new Error('did not throw');
};

describe('parseLogsQuery', () => {
  it('defaults to everything, once, without timestamps', () => {
    expect(parseLogsQuery({})).toEqual({
      container: undefined,
      tail: undefined,
      sinceMs: 0,
      untilMs: 0,
      follow: false,
      timestamps: false,
    });
  });

  it.each<[Record<string, string>, Partial<ReturnType<typeof parseLogsQuery>>]>([
    [{ tail: '100' }, { tail: 100 }],
    [{ tail: '0' }, { tail: 0 }],
    [{ tail: 'all' }, { tail: undefined }],
    [{ since: '1795824600' }, { sinceMs: 1795824600_000 }],
    [{ since: '1795824600.25' }, { sinceMs: 1795824600_250 }],
    [
      { since: '2026-11-28T00:10:00Z', until: '2026-11-28T00:11:00.5Z' },
      { sinceMs: 1795824600_000, untilMs: 1795824660_500 },
    ],
    [
      { follow: 'true', timestamps: 'true' },
      { follow: true, timestamps: true },
    ],
    [{ follow: 'false' }, { follow: false }],
    [{ container: 'web' }, { container: 'web' }],
  ])('%j', (query, expected) => {
    expect(parseLogsQuery(query)).toMatchObject(expected);
  });

  it.each<[Record<string, string>, string]>([
    [{ tail: '-1' }, 'tail'],
    [{ tail: '1.5' }, 'tail'],
    [{ tail: '10000000' }, 'tail'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2026-13-45T99:00:00Z' }, 'since'],
    [{ until: '-5' }, 'until'],
    [{ since: '1795824660', until: '1795824600' }, 'until'],
    [{ follow: 'yes' }, 'follow'],
    [{ timestamps: '1' }, 'timestamps'],
  ])('refuses %j, naming %s', (query, field) => {
    expect(fieldOf(() => parseLogsQuery(query))).toBe(field);
  });
});

describe('chooseContainer', () => {
  it('takes the only container when none is named', () => {
    expect(chooseContainer(['web'], undefined)).toBe('web');
  });
  it('takes the named one', () => {
    expect(chooseContainer(['web', 'sidecar'], 'sidecar')).toBe('sidecar');
  });
  it('needs a name for a task of several containers, and an existing one', () => {
    expect(() => chooseContainer(['web', 'sidecar'], undefined)).toThrow(
      /is required: the task has 2 containers/,
    );
    expect(() => chooseContainer(['web'], 'db')).toThrow(/no container named db \(it has web\)/);
  });
});

describe('splitCommand', () => {
  it.each<[string, string[]]>([
    ['/bin/sh', ['/bin/sh']],
    ['ls  -al   /', ['ls', '-al', '/']],
    ["sh -c 'echo hi; exit 3'", ['sh', '-c', 'echo hi; exit 3']],
    ['sh -c "echo \\"a b\\" \\\\ $HOME"', ['sh', '-c', 'echo "a b" \\ $HOME']],
    ['echo a\\ b', ['echo', 'a b']],
    ["echo ''", ['echo', '']],
    ['', []],
  ])('%s', (line, words) => {
    expect(splitCommand(line)).toEqual(words);
  });
  it('refuses an unterminated quote', () => {
    expect(fieldOf(() => splitCommand("sh -c 'echo"))).toBe('command');
  });
});

describe('validateExecuteCommand', () => {
  it('takes ECS’s command line, or its words', () => {
    expect(validateExecuteCommand({ command: "sh -c 'exit 3'", interactive: true })).toEqual({
      container: undefined,
      command: ['sh', '-c', 'exit 3'],
      interactive: true,
      tty: false,
    });
    expect(validateExecuteCommand({ container: 'web', command: ['sh'], tty: true })).toMatchObject({
      container: 'web',
      command: ['sh'],
      interactive: false,
      tty: true,
    });
  });
  it.each<[unknown, string]>([
    [{}, 'command'],
    [{ command: '' }, 'command'],
    [{ command: '   ' }, 'command'],
    [{ command: [] }, 'command'],
    [{ command: 'sh', interactive: 'yes' }, 'interactive'],
    [{ command: 'sh', tty: 1 }, 'tty'],
    [{ command: 'sh', container: '' }, 'container'],
  ])('refuses %j, naming %s', (body, field) => {
    expect(fieldOf(() => validateExecuteCommand(body))).toBe(field);
  });
});

describe('checkExecAllowed', () => {
  const running = { lastStatus: 'RUNNING' };
  it('allows a task run with enableExecuteCommand, or one whose service has it', () => {
    expect(() => checkExecAllowed({ ...running, enableExecuteCommand: true })).not.toThrow();
    expect(() =>
      checkExecAllowed({
        ...running,
        enableExecuteCommand: false,
        service: { name: 'web', enableExecuteCommand: true },
      }),
    ).not.toThrow();
  });
  it('refuses otherwise, saying how to allow it', () => {
    expect(() => checkExecAllowed({ ...running, enableExecuteCommand: false })).toThrow(ClientError);
    expect(() => checkExecAllowed({ ...running, enableExecuteCommand: false })).toThrow(
      /run it with enableExecuteCommand: true/,
    );
    expect(() =>
      checkExecAllowed({
        ...running,
        enableExecuteCommand: false,
        service: { name: 'web', enableExecuteCommand: false },
      }),
    ).toThrow(/service web has enableExecuteCommand false/);
  });
  it('refuses a task that does not run', () => {
    expect(() => checkExecAllowed({ lastStatus: 'STOPPED', enableExecuteCommand: true })).toThrow(
      /needs a RUNNING task/,
    );
  });
});
