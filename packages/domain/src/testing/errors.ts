import { InvalidParameterError } from '../errors.js';

/** The InvalidParameterError that `fn` throws; fails the test if it throws nothing or something else. */
export function invalidParameterOf(fn: () => unknown): InvalidParameterError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidParameterError) return e;
    throw e;
  }
  throw new Error('expected an InvalidParameterError');
}
