import { InvalidParameterError } from '@berth/domain';
import { ExpressionError, MAX_EXPRESSION_LENGTH, parseExpression } from './expression.js';
import type { PlacementConstraint, PlacementStrategy } from './types.js';

/** ECS limits on one RunTask or service. */
export const MAX_CONSTRAINTS = 10;
export const MAX_STRATEGIES = 5;

const ATTRIBUTE_FIELD = /^attribute:[A-Za-z0-9_.-]{1,128}$/;

const bad = (field: string, rule: string) => new InvalidParameterError(`${field}: ${rule}`, field);

/**
 * Turns API placement constraints (`[{type, expression}]`) into the core's form, checking the
 * ECS rules; errors name the JSON path (`placementConstraints[1].expression`) and, for a bad
 * expression, where in it the problem is.
 */
export function parseConstraints(input: unknown, root = 'placementConstraints'): PlacementConstraint[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw bad(root, 'must be an array of {type, expression}');
  if (input.length > MAX_CONSTRAINTS) throw bad(root, `must hold at most ${MAX_CONSTRAINTS} constraints`);
  return input.map((c: unknown, i) => {
    const at = `${root}[${i}]`;
    if (typeof c !== 'object' || c === null) throw bad(at, 'must be an object {type, expression}');
    const { type, expression } = c as { type?: unknown; expression?: unknown };
    if (type === 'distinctInstance') {
      if (expression !== undefined) throw bad(`${at}.expression`, 'distinctInstance takes no expression');
      return { type };
    }
    if (type === 'memberOf') {
      if (typeof expression !== 'string' || expression.trim() === '') {
        throw bad(
          `${at}.expression`,
          'memberOf needs an expression, such as "attribute:zone in [eu-1a, eu-1b]"',
        );
      }
      if (expression.length > MAX_EXPRESSION_LENGTH) {
        throw bad(`${at}.expression`, `must be at most ${MAX_EXPRESSION_LENGTH} characters`);
      }
      try {
        return { type, expression: parseExpression(expression), source: expression };
      } catch (e) {
        if (e instanceof ExpressionError) throw bad(`${at}.expression`, `${e.message}: ${expression}`);
        throw e;
      }
    }
    throw bad(`${at}.type`, 'must be "distinctInstance" or "memberOf"');
  });
}

export function parseStrategies(input: unknown, root = 'placementStrategy'): PlacementStrategy[] | undefined {
  if (input === undefined || input === null) return undefined;
  if (!Array.isArray(input)) throw bad(root, 'must be an array of {type, field}');
  if (input.length > MAX_STRATEGIES) throw bad(root, `must hold at most ${MAX_STRATEGIES} strategies`);
  return input.map((s: unknown, i) => {
    const at = `${root}[${i}]`;
    if (typeof s !== 'object' || s === null) throw bad(at, 'must be an object {type, field}');
    const { type, field } = s as { type?: unknown; field?: unknown };
    switch (type) {
      case 'random':
        if (field !== undefined) throw bad(`${at}.field`, 'random takes no field');
        return { type };
      case 'binpack':
        if (field !== 'cpu' && field !== 'memory')
          throw bad(`${at}.field`, 'binpack needs field "cpu" or "memory"');
        return { type, field };
      case 'spread':
        if (
          typeof field !== 'string' ||
          !(field === 'instanceId' || field === 'host' || ATTRIBUTE_FIELD.test(field))
        ) {
          throw bad(
            `${at}.field`,
            'spread needs field "instanceId", "host" or "attribute:<name>" (letters, digits, _ . - up to 128)',
          );
        }
        return { type, field };
      default:
        throw bad(`${at}.type`, 'must be "random", "spread" or "binpack"');
    }
  });
}
