export { BatchWriterError, type BatchWriterErrorCode } from './errors.js';
