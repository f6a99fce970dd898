import { InvalidParameterError } from './errors.js';
import { validateStartTask } from './start-task.js';

describe('StartTask', () => {
  it('takes RunTask’s fields and 1 to 10 container instances', () => {
    expect(
      validateStartTask({ taskDefinition: 'web:1', containerInstances: ['a', 'b'], startedBy: 'ci' }),
    ).toMatchObject({ taskDefinition: 'web:1', containerInstances: ['a', 'b'], startedBy: 'ci' });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ taskDefinition: 'web' }, 'containerInstances'],
    [{ taskDefinition: 'web', containerInstances: [] }, 'containerInstances'],
    [{ taskDefinition: 'web', containerInstances: Array(11).fill('a') }, 'containerInstances'],
    [{ containerInstances: ['a'] }, 'taskDefinition'],
  ])('refuses %j naming %s', (body, field) => {
    let error: unknown;
    try {
      validateStartTask(body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).toBe(field);
  });
});
