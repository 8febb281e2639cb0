// An S3 error answer: the HTTP status and the S3 error code a client (and its SDK's retry logic)
// expects, with a message that says what to change.
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
