import { InvalidParameterError } from './errors.js';
import { protectedTaskView, validateUpdateTaskProtection } from './task-protection.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const plus = (m: number) => new Date(NOW.getTime() + m * 60_000);

describe('UpdateTaskProtection', () => {
  it.each<[Record<string, unknown>, Date | null]>([
    [{ tasks: ['t'], protectionEnabled: true }, plus(120)],
    [{ tasks: ['t'], protectionEnabled: true, expiresInMinutes: 1 }, plus(1)],
    [{ tasks: ['t'], protectionEnabled: true, expiresInMinutes: 2880 }, plus(2880)],
    [{ tasks: ['t'], protectionEnabled: false, expiresInMinutes: 60 }, null],
  ])('%j protects until %s', (body, until) => {
    expect(validateUpdateTaskProtection(body, NOW)).toEqual({ tasks: ['t'], protectedUntil: until });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ tasks: ['t'], protectionEnabled: true, expiresInMinutes: 0 }, 'expiresInMinutes'],
    [{ tasks: ['t'], protectionEnabled: true, expiresInMinutes: 2881 }, 'expiresInMinutes'],
    [{ tasks: ['t'], protectionEnabled: true, expiresInMinutes: 1.5 }, 'expiresInMinutes'],
    [{ tasks: ['t'] }, 'protectionEnabled'],
    [{ tasks: [], protectionEnabled: true }, 'tasks'],
    [{ tasks: Array.from({ length: 11 }, (_, i) => `t${i}`), protectionEnabled: true }, 'tasks'],
    [{ protectionEnabled: true }, 'tasks'],
  ])('refuses %j, naming %s', (body, field) => {
    expect(() => validateUpdateTaskProtection(body, NOW)).toThrow(InvalidParameterError);
    try {
      validateUpdateTaskProtection(body, NOW);
    } catch (error) {
      expect((error as InvalidParameterError).field).toBe(field);
    }
  });
});

describe('the ProtectedTask view', () => {
  it('shows a live protection with its date, and an expired one as off', () => {
    expect(protectedTaskView('arn', plus(5), NOW)).toEqual({
      taskArn: 'arn',
      protectionEnabled: true,
      expirationDate: plus(5).toISOString(),
    });
    expect(protectedTaskView('arn', plus(-5), NOW)).toEqual({ taskArn: 'arn', protectionEnabled: false });
    expect(protectedTaskView('arn', null, NOW)).toEqual({ taskArn: 'arn', protectionEnabled: false });
  });
});
