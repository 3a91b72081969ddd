/**
 * notary's terminal passphrase prompt (spec §9.3, notary's `passphrase.PromptRetrieverWithInOut`),
 * over injected input/output streams so that it can be driven by tests.
 *
 * Texts and flow as notary's: for a new root key the six-line warning first; `Enter passphrase for
 * new <alias> key with ID <7 hex>: `, fewer than 8 bytes → the "too short" message, `Repeat passphrase
 * …`, a mismatch → `Passphrases do not match. Please retry.` and the question again (at most 12
 * rounds, notary's limit); for an existing key `Enter passphrase for <alias> key with ID <7 hex>: `,
 * and on later attempts `Passphrase incorrect. Please retry.` first, giving up after 3 retries.
 * A passphrase that was read is cached per alias and offered first the next time (attempt 0).
 *
 * Input is read a line at a time without echo: when `input` is a TTY stream it is switched to raw
 * mode while a passphrase is read (Enter ends it, Backspace edits, Ctrl-C aborts, Ctrl-D on an empty
 * line is end of input). Without a terminal (`isTTY` false) nothing is read: the retriever throws
 * PassphraseError at once, naming the environment variables to set. End of input also throws.
 *
 * Not safe for concurrent calls: prompts share one input stream.
 *
 * @example
 *   const retriever = terminalPassphraseRetriever({ input: process.stdin, output: process.stdout,
 *     isTTY: process.stdin.isTTY === true });
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { PassphraseError } from '../errors/index.ts';
import type { PassphraseRetriever } from './client-types.ts';
import { envHint } from './passphrase-env.ts';

export const ROOT_KEY_GENERATION_WARNING = `You are about to create a new root signing key passphrase. This passphrase
will be used to protect the most sensitive key in your signing system. Please
choose a long, complex passphrase and be careful to keep the password and the
key file itself secure and backed up. It is highly recommended that you use a
password manager to generate the passphrase and keep it safe. There will be no
way to recover this key. You can find the key in your config directory.`;

export const PASSPHRASE_TOO_SHORT =
  'Passphrase is too short. Please use a password manager to generate and store a good random passphrase.';
export const PASSPHRASES_DO_NOT_MATCH = 'Passphrases do not match. Please retry.';
export const PASSPHRASE_INCORRECT = 'Passphrase incorrect. Please retry.';
export const ATTEMPTS_EXCEEDED = 'maximum number of passphrase attempts exceeded';

/** docker's display names for aliases in prompts (`root`; `repository` for targets and snapshot). */
export const DOCKER_ALIAS_MAP: Readonly<Record<string, string>> = {
  root: 'root',
  snapshot: 'repository',
  targets: 'repository',
  default: 'repository',
};

const MIN_PASSPHRASE_BYTES = 8;
/** Retries after the first wrong passphrase of an existing key. */
const MAX_RETRIES = 3;
/** Rounds of "enter + repeat" for a new key (notary's AddKey loop gives up after 12). */
const NEW_PASSPHRASE_ROUNDS = 12;
const ID_CHARS = 7;

export interface TerminalPassphraseOptions {
  readonly input: Readable;
  readonly output: Writable;
  /** Whether `input` is an interactive terminal; when false the retriever refuses at once. */
  readonly isTTY: boolean;
  /** Display names for aliases (docker passes DOCKER_ALIAS_MAP; notary none). */
  readonly aliasMap?: Readonly<Record<string, string>>;
}

export function terminalPassphraseRetriever(options: TerminalPassphraseOptions): PassphraseRetriever {
  const cache = new Map<string, string>();
  let reader: HiddenLineReader | undefined;
  const say = (text: string): void => {
    options.output.write(text);
  };

  return async ({ keyName, alias, createNew, attempt }) => {
    if (!options.isTTY) {
      throw new PassphraseError(`cannot ask for the passphrase of the ${alias || 'unnamed'} key without a terminal: ${envHint(alias)}`);
    }
    if (attempt === 0) {
      if (alias === 'root' && createNew) say(ROOT_KEY_GENERATION_WARNING + '\n');
      const cached = cache.get(alias);
      if (cached !== undefined) return cached;
    } else if (!createNew) {
      if (attempt > MAX_RETRIES) throw new PassphraseError('Too many attempts');
      say(PASSPHRASE_INCORRECT + '\n');
    }
    reader ??= new HiddenLineReader(options.input);
    const lineReader = reader;
    const display = options.aliasMap !== undefined && Object.hasOwn(options.aliasMap, alias) ? (options.aliasMap[alias] ?? alias) : alias;
    const shortName = displayKeyName(keyName);
    const withId = shortName === '' ? '' : ` with ID ${shortName}`;
    const ask = async (question: string): Promise<string> => {
      say(question);
      const line = await lineReader.readLine();
      say('\n');
      return line.trim();
    };

    for (let round = 1; ; round++) {
      const passphrase = await ask(createNew ? `Enter passphrase for new ${display} key${withId}: ` : `Enter passphrase for ${display} key${withId}: `);
      if (!createNew || (await confirmed(passphrase))) {
        cache.set(alias, passphrase);
        return passphrase;
      }
      if (round >= NEW_PASSPHRASE_ROUNDS) throw new PassphraseError(ATTEMPTS_EXCEEDED);
    }

    async function confirmed(passphrase: string): Promise<boolean> {
      if (Buffer.byteLength(passphrase, 'utf8') < MIN_PASSPHRASE_BYTES) {
        say(PASSPHRASE_TOO_SHORT + '\n');
        return false;
      }
      const again = await ask(`Repeat passphrase for new ${display} key${withId}: `);
      if (again !== passphrase) {
        say(PASSPHRASES_DO_NOT_MATCH + '\n');
        return false;
      }
      return true;
    }
  };
}

/**
 * notary's short key name in prompts: the first 7 characters of the id, or `<7 chars> (<prefix>)`
 * when the name holds a path; "" for names of 7 characters or fewer.
 */
export function displayKeyName(keyName: string): string {
  let sep = keyName.lastIndexOf('/');
  if (sep < 0) sep = 0;
  if (keyName.length <= sep + ID_CHARS) return '';
  if (sep > 0) return `${keyName.slice(sep + 1, sep + 1 + ID_CHARS)} (${keyName.slice(0, sep)})`;
  return keyName.slice(sep, sep + ID_CHARS);
}

/** Reads lines without echo; keeps what it read past a line for the next call. */
class HiddenLineReader {
  readonly #input: Readable;
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';
  #ended = false;
  /** The previous line ended with CR: a LF right after it belongs to that line. */
  #skipLf = false;

  constructor(input: Readable) {
    this.#input = input;
  }

  async readLine(): Promise<string> {
    const tty = this.#input as Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown };
    const useRaw = tty.isTTY === true && typeof tty.setRawMode === 'function';
    const wasRaw = tty.isRaw === true;
    if (useRaw) tty.setRawMode?.(true);
    try {
      let line = '';
      for (;;) {
        while (this.#pending.length > 0) {
          const ch = this.#pending[0] ?? '';
          this.#pending = this.#pending.slice(1);
          if (this.#skipLf) {
            this.#skipLf = false;
            if (ch === '\n') continue;
          }
          if (ch === '\r' || ch === '\n') {
            this.#skipLf = ch === '\r';
            return line;
          }
          if (ch === '\u0003') throw new PassphraseError('passphrase entry interrupted');
          if (ch === '\u0004') {
            if (line === '') throw new PassphraseError('no passphrase entered: end of input');
            continue;
          }
          if (ch === '\u007f' || ch === '\b') {
            line = Array.from(line).slice(0, -1).join('');
            continue;
          }
          line += ch;
        }
        if (this.#ended || this.#input.readableEnded || this.#input.destroyed) {
          throw new PassphraseError('no passphrase entered: end of input');
        }
        await this.#more();
      }
    } finally {
      if (useRaw) tty.setRawMode?.(wasRaw);
    }
  }

  /** Wait for the next chunk, the end of the stream or an error. */
  #more(): Promise<void> {
    const input = this.#input;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('close', onEnd);
        input.off('error', onError);
        input.pause();
      };
      const onData = (chunk: Buffer | string): void => {
        this.#pending += typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
        cleanup();
        resolve();
      };
      const onEnd = (): void => {
        this.#pending += this.#decoder.end();
        this.#ended = true;
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new PassphraseError('could not read the passphrase', { cause: err }));
      };
      input.on('data', onData);
      input.once('end', onEnd);
      input.once('close', onEnd);
      input.once('error', onError);
      input.resume();
    });
  }
}
