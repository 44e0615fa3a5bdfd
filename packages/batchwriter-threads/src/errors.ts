// The one error class the library throws. `code` is stable and safe to switch on; the
// message says what to do about it.

export type BatchWriterErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_CONNECT'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_NOT_PLAIN_OBJECT'
  | 'ERR_CIRCULAR'
  | 'ERR_UNENCODABLE'
  | 'ERR_DOC_TOO_LARGE'
  | 'ERR_INVALID_BSON'
  | 'ERR_DEAD_LETTER_WRITE';

export class BatchWriterError extends Error {
  override readonly name = 'BatchWriterError';
  readonly code: BatchWriterErrorCode;
  /** Extra machine-readable facts (the option name, the size in bytes, ...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: BatchWriterErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}
