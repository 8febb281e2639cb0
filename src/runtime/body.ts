// Reading a JSON request body with a size limit: 413 past the limit, 400 for bad JSON, never a hang.
import type { IncomingMessage } from 'node:http';

/** An error with the HTTP status it maps to; the message is shown to the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readText(req, limit);
  if (text.trim() === '') throw new HttpError(400, 'the request body is empty; send the JSON object the verb expects');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw new HttpError(415, `Content-Encoding "${encoding}" is not supported; send the body uncompressed`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(size, limit);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
}

function tooLarge(size: number, limit: number): HttpError {
  return new HttpError(413, `the request body (${size} bytes or more) exceeds the limit of ${limit} bytes; raise --body-limit`);
}
