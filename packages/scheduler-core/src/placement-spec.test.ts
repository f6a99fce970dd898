import { InvalidParameterError } from '@berth/domain';
import { parseConstraints, parseStrategies } from './placement-spec.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidParameterError) return e.field;
    throw e;
  }
  throw new Error('expected an InvalidParameterError');
}

describe('placement constraints and strategies', () => {
  it('accepts the ECS shapes', () => {
    expect(
      parseConstraints([
        { type: 'distinctInstance' },
        { type: 'memberOf', expression: 'attribute:zone == a' },
      ]),
    ).toHaveLength(2);
    expect(
      parseStrategies([
        { type: 'spread', field: 'attribute:zone' },
        { type: 'binpack', field: 'memory' },
        { type: 'random' },
      ]),
    ).toHaveLength(3);
    expect(parseStrategies(undefined)).toBeUndefined();
  });

  it.each([
    [
      'an unknown constraint type',
      () => parseConstraints([{ type: 'sameHost' }]),
      'placementConstraints[0].type',
    ],
    [
      'memberOf without expression',
      () => parseConstraints([{ type: 'memberOf' }]),
      'placementConstraints[0].expression',
    ],
    [
      'an expression that does not parse',
      () =>
        parseConstraints([{ type: 'distinctInstance' }, { type: 'memberOf', expression: 'attribute:x ==' }]),
      'placementConstraints[1].expression',
    ],
    [
      'an expression over 2000 characters',
      () =>
        parseConstraints([
          { type: 'memberOf', expression: `attribute:zone in [${Array(400).fill('eu-1a').join(',')}]` },
        ]),
      'placementConstraints[0].expression',
    ],
    [
      'more than 10 constraints',
      () => parseConstraints(Array(11).fill({ type: 'distinctInstance' })),
      'placementConstraints',
    ],
    ['an unknown strategy', () => parseStrategies([{ type: 'roundRobin' }]), 'placementStrategy[0].type'],
    [
      'binpack on an unknown field',
      () => parseStrategies([{ type: 'binpack', field: 'disk' }]),
      'placementStrategy[0].field',
    ],
    [
      'spread on a bad attribute name',
      () => parseStrategies([{ type: 'spread', field: 'attribute:zo ne' }]),
      'placementStrategy[0].field',
    ],
    ['more than 5 strategies', () => parseStrategies(Array(6).fill({ type: 'random' })), 'placementStrategy'],
  ])('rejects %s, naming the field', (_, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });

  it('shows where an expression fails', () => {
    expect(() => parseConstraints([{ type: 'memberOf', expression: 'attribute:zone in eu' }])).toThrow(
      "placementConstraints[0].expression: expected '[' but found 'eu' at position 19: attribute:zone in eu",
    );
  });

  it.each([
    ['a backreference', 'attribute:a =~ (x)\\1', "invalid escape sequence at '\\1'"],
    ['a lookahead', 'attribute:a =~ (?=x)x', "invalid or unsupported Perl syntax at '(?='"],
  ])('refuses %s, which RE2 cannot match in linear time', (_, expression, why) => {
    expect(() => parseConstraints([{ type: 'memberOf', expression }])).toThrow(
      `placementConstraints[0].expression: '${expression.slice(15)}' is not a valid regular expression: ${why} ` +
        '(RE2 syntax, without backreferences or lookaround) at position 16',
    );
  });
});
