import express, { type NextFunction, type Request, type Response } from 'express';
import { checkBody, InvalidParameterError } from '@berth/domain';
import type { BerthRequest } from '../auth/request-context.js';

/**
 * The wire format of the ECS API (AWS JSON 1.1): `POST /` with this content type, the action in
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>`, a JSON object as the body.
 */
export const ECS_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const MAX_BODY = '1mb';

/** The action an X-Amz-Target header names, or undefined when it names none. */
export function ecsActionName(target: string | string[] | undefined): string | undefined {
  if (typeof target !== 'string' || !target.startsWith(ECS_TARGET_PREFIX)) return undefined;
  const action = target.slice(ECS_TARGET_PREFIX.length);
  return /^[A-Z][A-Za-z0-9]{0,63}$/.test(action) ? action : undefined;
}

export const isEcsRequest = (req: Request) =>
  (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === ECS_CONTENT_TYPE;

/** Describe*, List* and Get* calls change nothing. */
export const isReadOnlyAction = (action: string) => /^(Describe|List|Get)[A-Z]/.test(action);

/**
 * Reads an ECS request's body: keeps its bytes for the signature check, parses the JSON object
 * the handlers get, and answers a malformed one in the protocol's own error shape.
 */
export function ecsBodyParser() {
  const raw = express.raw({ type: () => true, limit: MAX_BODY });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!isEcsRequest(req)) return next();
    // The protocol of the answer is the route's, which the guard sets: a REST route sent this
    // content type still answers in REST's shape.
    const berth = (req as BerthRequest).berth;
    res.setHeader('x-amzn-requestid', berth.requestId);
    const refuse = (status: number, exception: string, message: string) =>
      res.status(status).type(ECS_CONTENT_TYPE).json({ __type: exception, message });
    raw(req, res, (err?: unknown) => {
      if (err) {
        const type = (err as { type?: string }).type;
        if (type === 'entity.too.large')
          return refuse(413, 'ClientException', `the request body is larger than ${MAX_BODY}`);
        return refuse(400, 'SerializationException', 'the request body could not be read');
      }
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      berth.rawBody = bytes;
      let input: unknown = {};
      try {
        if (bytes.length) input = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        return refuse(
          400,
          'SerializationException',
          `the request body is not valid JSON: ${(error as Error).message}`,
        );
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        return refuse(400, 'SerializationException', 'the request body must be a JSON object');
      try {
        checkBody(input);
      } catch (error) {
        if (error instanceof InvalidParameterError) return refuse(400, error.exception, error.message);
        return next(error);
      }
      req.body = input;
      next();
    });
  };
}
