/**
 * The error family of the control plane. Each carries the ECS exception name that the API
 * answers with; edges (HTTP, gRPC) map them to status codes in one place each.
 */
export abstract class BerthError extends Error {
  abstract readonly exception: string;
}

/** Bad input: names the JSON path of the offending field and the rule it broke. */
export class InvalidParameterError extends BerthError {
  readonly exception = 'InvalidParameterException';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A resource that the request names does not exist (ClusterNotFoundException, ...). */
export class NotFoundError extends BerthError {
  constructor(
    readonly exception: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The request conflicts with the current state (ClusterContainsTasksException, ...). */
export class ConflictError extends BerthError {
  constructor(
    readonly exception: string,
    message: string,
  ) {
    super(message);
  }
}

/** Any other refusal of a well-formed request (UnsupportedFeatureException, ...): a 400. */
export class ClientError extends BerthError {
  constructor(
    readonly exception: string,
    message: string,
  ) {
    super(message);
  }
}

export function isBerthError(error: unknown): error is BerthError {
  return error instanceof BerthError;
}

/**
 * The request carries no valid credentials: 401 UnrecognizedClientException on REST; the ECS
 * protocol also names what was wrong with a signature (InvalidSignatureException,
 * IncompleteSignatureException, MissingAuthenticationTokenException).
 */
export class UnauthenticatedError extends BerthError {
  constructor(
    message: string,
    readonly exception = 'UnrecognizedClientException',
  ) {
    super(message);
  }
}

/** The caller's policies do not allow the action on the resource (403 AccessDeniedException). */
export class AccessDeniedError extends BerthError {
  readonly exception = 'AccessDeniedException';
}

/** Something the request needs (Redis) cannot be reached now; the caller may retry (503). */
export class ServiceUnavailableError extends BerthError {
  readonly exception = 'ServiceUnavailableException';
}
