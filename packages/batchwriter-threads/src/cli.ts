#!/usr/bin/env node
// The `batchwriter-threads` command. One subcommand for now:
//   batchwriter-threads replay <files or dirs...> --uri ... --db ... --collection ...
// writes dead-lettered documents back through a BatchWriter, with a progress bar on stderr
// (plain periodic lines when stderr is not a terminal) and a summary at the end.
// Exit codes: 0 every document is in the collection (inserted now or before), 1 some did
// not make it (dead-lettered again, refused, malformed lines, or the server was unreachable),
// 2 usage error.
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { BatchWriterError } from './errors.js';
import type { BatchWriterOptions } from './options.js';
import { redactText, redactUri } from './redact.js';
import { replayDeadLetters, type ReplayProgress, type ReplaySummary } from './replay.js';

const USAGE = `usage: batchwriter-threads replay <file-or-dir...> --uri <mongodb-uri> --db <db> --collection <name> [options]

Writes the documents of dead-letter files (JSON Lines) back into a collection. Documents
keep their _id, so those already there count as duplicates: replaying twice inserts nothing twice.
A directory stands for the *.jsonl files in it.

options:
  --uri <uri>                 connection string (default: $MONGODB_URI)
  --db <name>                 database
  --collection <name>         collection
  --workers <n>               worker threads [min(4, cores)]
  --retries <n>               retries per batch, -1 = until success [3]
  --attempt-timeout-ms <ms>   timeout of one insert attempt [5000]
  --dead-letter-dir <dir>     where documents that fail again are written
                              [the directory of the first input]
  --json                      print the summary as JSON on stdout
  --quiet                     no progress output
  -h, --help                  this text

exit codes: 0 all inserted or already present, 1 some not (see the summary), 2 usage error`;

class UsageError extends Error {}

interface Parsed {
  files: string[];
  options: BatchWriterOptions;
  json: boolean;
  quiet: boolean;
}

function intOption(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parse(argv: string[]): Parsed | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        uri: { type: 'string' },
        db: { type: 'string' },
        collection: { type: 'string' },
        workers: { type: 'string' },
        retries: { type: 'string' },
        'attempt-timeout-ms': { type: 'string' },
        'dead-letter-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    // parseArgs quotes the offending argument, which could be a URI with a password.
    throw new UsageError(redactUri((err as Error).message));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, ...files] = positionals;
  if (command === undefined) throw new UsageError('missing command (replay)');
  if (command !== 'replay') throw new UsageError(`unknown command ${JSON.stringify(command)} (known: replay)`);
  if (files.length === 0) throw new UsageError('replay needs at least one dead-letter file or directory');
  const uri = values.uri ?? process.env.MONGODB_URI;
  if (!uri) throw new UsageError('--uri is required (or set MONGODB_URI)');
  if (!values.db) throw new UsageError('--db is required');
  if (!values.collection) throw new UsageError('--collection is required');

  const options: BatchWriterOptions = {
    uri,
    db: values.db,
    collection: values.collection,
    deadLetter: { dir: values['dead-letter-dir'] ?? dirname(files[0]!), filePrefix: 'replay' },
  };
  const workers = intOption(values, 'workers');
  if (workers !== undefined) options.workers = workers;
  const retries = intOption(values, 'retries');
  if (retries !== undefined) options.retries = retries;
  const attemptTimeoutMs = intOption(values, 'attempt-timeout-ms');
  if (attemptTimeoutMs !== undefined) options.attemptTimeoutMs = attemptTimeoutMs;
  return { files, options, json: values.json, quiet: values.quiet };
}

/** Progress on stderr: a bar on a terminal, a line every few seconds otherwise. */
function progressReporter(quiet: boolean): { update(p: ReplayProgress): void; stop(): void } {
  if (quiet) return { update() {}, stop() {} };
  const describe = (p: ReplayProgress): string =>
    `inserted ${p.inserted}, duplicates ${p.duplicates}, dead-lettered ${p.deadLettered}${p.malformedLines ? `, malformed ${p.malformedLines}` : ''}${p.rejected ? `, refused ${p.rejected}` : ''}`;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'replay [{bar}] {percentage}% | {value}/{total} | {details} | eta {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (p.totalLines === undefined) return;
        if (!started) {
          bar.start(p.totalLines, 0, { details: describe(p) });
          started = true;
        }
        bar.update(Math.min(p.settled, p.totalLines), { details: describe(p) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 2000) return;
      last = now;
      const of = p.totalLines === undefined ? '' : `/${p.totalLines}`;
      process.stderr.write(`replay: ${p.settled}${of} settled (${describe(p)})\n`);
    },
    stop() {},
  };
}

function printSummary(summary: ReplaySummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const lines = [
    `replayed ${summary.read} dead-lettered document(s) from ${summary.files.length} file(s)`,
    `  inserted:        ${summary.inserted}`,
    `  already present: ${summary.duplicates}`,
    `  dead-lettered:   ${summary.deadLettered}${summary.deadLetterFiles.length ? ` (in ${summary.deadLetterFiles.join(', ')})` : ''}`,
  ];
  if (summary.rejected) lines.push(`  refused:         ${summary.rejected} (not writable documents)`);
  if (summary.malformedLines) lines.push(`  malformed lines: ${summary.malformedLines} (not dead-letter records, skipped)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(argv: string[]): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`batchwriter-threads: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { files, options, json, quiet } = parsed;
  const stopSignal = new AbortController();
  options.signal = stopSignal.signal;
  const onSignal = (): void => stopSignal.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const reporter = progressReporter(quiet);
  let summary: ReplaySummary;
  try {
    summary = await replayDeadLetters(files, options, (p) => reporter.update(p));
  } catch (err) {
    reporter.stop();
    const message = redactText(err instanceof Error ? err.message : String(err), options.uri);
    process.stderr.write(`batchwriter-threads: ${message}\n`);
    // A bad option (--workers 0, a missing file) is a usage error; anything else a failed replay.
    return err instanceof BatchWriterError && err.code === 'ERR_INVALID_OPTION' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  reporter.stop();
  printSummary(summary, json);
  const complete = summary.inserted + summary.duplicates === summary.read && summary.malformedLines === 0 && summary.rejected === 0;
  return complete ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`batchwriter-threads: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
