// Typed API errors, so callers branch on `instanceof ConflictError` rather than on status numbers.
import type { StatusBody } from './object.js';

/** A non-2xx answer from the API server, carrying the `Status` it sent when there was one. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: StatusBody,
  ) {
    super(message);
  }
}

/** 404: the object (or its namespace) does not exist. */
export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
}

/** 409 Conflict: the write was based on a stale resourceVersion; re-read and retry. */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
}

/** 409 AlreadyExists: create of a name that is taken. */
export class AlreadyExistsError extends ApiError {
  override readonly name = 'AlreadyExistsError';
}

/** Builds the most specific error for an HTTP status and the body the server sent. */
export function apiErrorFrom(code: number, body: unknown, what: string): ApiError {
  const status = isStatus(body) ? body : undefined;
  const reason = status?.reason ?? defaultReason(code);
  const message = `${what}: ${status?.message ?? (typeof body === 'string' && body ? body : `HTTP ${code}`)}`;
  if (code === 404) return new NotFoundError(code, reason, message, status);
  if (code === 409 && reason === 'AlreadyExists') return new AlreadyExistsError(code, reason, message, status);
  if (code === 409) return new ConflictError(code, reason, message, status);
  return new ApiError(code, reason, message, status);
}

function isStatus(body: unknown): body is StatusBody {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}

function defaultReason(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 410:
      return 'Expired';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return 'Unknown';
  }
}
