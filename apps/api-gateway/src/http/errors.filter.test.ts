import { Prisma, TransactionStartTimeout, TransactionTimeout } from '@berth/db';
import { InvalidParameterError } from '@berth/domain';
import { ErrorsFilter, toErrorResponse } from './errors.filter.js';

/** Overload answers 503 with Retry-After, never a 500: what the RunTask benchmark met at 5,000 hosts. */

const prismaError = (code: string, message: string) =>
  new Prisma.PrismaClientKnownRequestError(message, { code, clientVersion: 'test' });

it('a transaction that could not start in time (every connection busy) is a 503 the client retries', () => {
  const error = prismaError(
    'P2028',
    'Transaction API error: Unable to start a transaction in the given time.',
  );
  expect(toErrorResponse(error)).toEqual([
    503,
    { error: 'ServiceUnavailableException', message: expect.stringMatching(/busy.*retry after 1 s/) },
  ]);
  // The ECS protocol keeps the status, with AWS's exception name, which the SDKs retry.
  expect(toErrorResponse(error, 'ecs')).toEqual([
    503,
    { __type: 'ServiceUnavailableException', message: expect.any(String) },
  ]);
});

it('the same from the plain SQL of the hot paths (RunTask): 503, not 500', () => {
  expect(toErrorResponse(new TransactionStartTimeout(2000))[0]).toBe(503);
  expect(toErrorResponse(new TransactionStartTimeout(2000), 'ecs')[0]).toBe(503);
  // A transaction that outlived its limit was rolled back: nothing was written, retry.
  expect(toErrorResponse(new TransactionTimeout(5000))[0]).toBe(503);
  expect(toErrorResponse(new TransactionTimeout(5000), 'ecs')[0]).toBe(503);
});

it('a Prisma interactive transaction that outlived its timeout was rolled back: 503; other P2028s stay 500', () => {
  const expired = prismaError(
    'P2028',
    'Transaction API error: Transaction already closed: A commit cannot be executed on an expired transaction. The timeout for this transaction was 5000 ms, however 5012 ms passed since the start of the transaction.',
  );
  expect(toErrorResponse(expired)[0]).toBe(503);
  expect(toErrorResponse(expired, 'ecs')[0]).toBe(503);
  const committed = prismaError(
    'P2028',
    'Transaction API error: Transaction already closed: A query cannot be executed on a committed transaction.',
  );
  expect(toErrorResponse(committed)[0]).toBe(500);
});

it('a lost database connection is a 503 too; an unknown failure stays a 500 without details', () => {
  expect(toErrorResponse(prismaError('P1001', "Can't reach database server"))[0]).toBe(503);
  expect(toErrorResponse(new Error('boom'))).toEqual([
    500,
    { error: 'ServerException', message: 'internal error; see the api-gateway log' },
  ]);
  expect(toErrorResponse(new InvalidParameterError('bad', 'count'))[0]).toBe(400);
});

it('the response of a 503 says when to retry', () => {
  const headers = new Map<string, string>();
  const res = {
    setHeader: (k: string, v: string) => headers.set(k, v),
    type: () => res,
    status: (s: number) => ((res.code = s), res),
    json: (b: unknown) => ((res.body = b), res),
    code: 0,
    body: undefined as unknown,
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ method: 'POST', url: '/v1/x' }) }),
  };
  const logger = { error: () => undefined } as never;
  new ErrorsFilter(logger).catch(
    prismaError('P2028', 'Unable to start a transaction in the given time.'),
    host as never,
  );
  expect(res.code).toBe(503);
  expect(headers.get('Retry-After')).toBe('1');
});
