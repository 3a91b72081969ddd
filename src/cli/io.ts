/**
 * What a `vouch` notary command touches outside itself, injected so tests can drive commands
 * in-process: standard streams, whether standard input is a terminal, the environment, the
 * working directory and the clock. Plus the two small interactions notary has with them:
 *
 * - `readLine`: one line from standard input, keeping whatever follows it for the next read
 *   (so a yes/no answer and a later passphrase prompt can share a pipe);
 * - `askConfirm`: notary's `askConfirm` — `fmt.Fscanln` of one word, true only for `y`/`yes`
 *   in any case; end of input, an empty line or more than one word mean no.
 *
 * Not here: passphrase prompts (src/keystore/passphrase*.ts).
 *
 * @example
 *   const io = processIo();
 *   io.stdout.write('Are you sure?  (yes/no)  ');
 *   if (!(await askConfirm(io.stdin))) io.stdout.write('\nAborting action.\n');
 */
import { Readable, type Writable } from 'node:stream';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  /** Standard input is an interactive terminal (prompts may wait for it). */
  readonly isTTY: boolean;
  readonly env: Env;
  /** Absolute working directory, for relative paths given on the command line. */
  readonly cwd: string;
  readonly now: () => Date;
}

/** The real process. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stdin.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/** Bytes read from a stream past the line a caller wanted, kept for the next read of it. */
const leftovers = new WeakMap<Readable, Buffer>();

/**
 * One line from `input` without its line ending (`\n` or `\r\n`), or null at end of input
 * with nothing read. Bytes read past the line are kept for the next `readLine`/`readAll` of
 * the same stream.
 */
export async function readLine(input: Readable): Promise<string | null> {
  let buf = leftovers.get(input) ?? Buffer.alloc(0);
  leftovers.delete(input);
  for (;;) {
    const nl = buf.indexOf(0x0a);
    if (nl >= 0) {
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) leftovers.set(input, rest);
      return buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
    }
    const chunk = await nextChunk(input);
    if (chunk === null) return buf.length === 0 ? null : buf.toString('utf8');
    buf = Buffer.concat([buf, chunk]);
  }
}

/** Everything left on `input`. */
export async function readAll(input: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  const kept = leftovers.get(input);
  leftovers.delete(input);
  if (kept !== undefined) parts.push(kept);
  for (;;) {
    const chunk = await nextChunk(input);
    if (chunk === null) return Buffer.concat(parts);
    parts.push(chunk);
  }
}

function nextChunk(input: Readable): Promise<Buffer | null> {
  if (input.readableEnded || input.destroyed) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const done = (): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.off('error', onError);
    };
    const onReadable = (): void => {
      const chunk = input.read() as Buffer | string | null;
      if (chunk === null) return;
      done();
      resolve(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(null);
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('close', onEnd);
    input.once('error', onError);
    onReadable();
  });
}

/** notary's askConfirm: exactly one word on the line, `y` or `yes` in any case. */
export async function askConfirm(input: Readable): Promise<boolean> {
  let line: string | null;
  try {
    line = await readLine(input);
  } catch {
    return false;
  }
  if (line === null) return false;
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length !== 1) return false;
  const answer = (words[0] as string).toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/**
 * `input` as a stream that hands out one line per chunk, for readers that keep whatever a chunk
 * holds beyond the line they wanted (the terminal passphrase prompt does): with piped or pasted
 * answers, each prompt then sees only its own line and the rest stays for the next one. A real
 * terminal (one that can be put in raw mode) is returned as is, since raw input arrives a
 * keystroke at a time and the prompt must be able to switch echo off on it.
 */
export function lineByLine(input: Readable): Readable {
  const tty = input as Readable & { setRawMode?: unknown };
  if (typeof tty.setRawMode === 'function') return input;
  let reading = false;
  // object mode: every read() and every 'data' event is exactly one line
  const out = new Readable({
    objectMode: true,
    read() {
      if (reading) return;
      reading = true;
      readLine(input).then(
        (line) => {
          reading = false;
          out.push(line === null ? null : line + '\n');
        },
        (err: Error) => {
          reading = false;
          out.destroy(err);
        },
      );
    },
  });
  return out;
}

/**
 * One line typed without echo: on a terminal that can be put in raw mode, keystrokes are read
 * one by one (Enter ends, Backspace edits, Ctrl-C or Ctrl-D on an empty line abort with null);
 * otherwise a plain `readLine`.
 */
export async function readHiddenLine(input: Readable): Promise<string | null> {
  const tty = input as Readable & { setRawMode?: (raw: boolean) => unknown; isRaw?: boolean };
  if (typeof tty.setRawMode !== 'function') return readLine(input);
  const wasRaw = tty.isRaw === true;
  tty.setRawMode(true);
  try {
    let line = '';
    for (;;) {
      const chunk = await nextChunk(input);
      if (chunk === null) return line === '' ? null : line;
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return line;
        if (ch === '\u0003' || (ch === '\u0004' && line === '')) return null;
        if (ch === '\u007f' || ch === '\b') line = Array.from(line).slice(0, -1).join('');
        else line += ch;
      }
    }
  } finally {
    tty.setRawMode(wasRaw);
  }
}
