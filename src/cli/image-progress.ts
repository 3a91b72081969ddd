/**
 * docker's per-layer progress for `vouch push`/`pull`. On a terminal, one line per layer,
 * redrawn in place at most ten times a second:
 *
 *   4f4fb700ef54: Pushing [=========================>                         ]  52.43MB/104.9MB
 *   a3ed95caeb02: Layer already exists
 *
 * Elsewhere (a pipe, a CI log), only the line a layer ends with (`Pushed`, `Pull complete`, …),
 * once. `quiet` prints nothing. The image config is not shown, as docker does not show it.
 *
 * A small own renderer rather than a library: docker's line format is the whole requirement,
 * and it is a few cursor moves.
 *
 * @example
 *   const view = new ProgressView(process.stdout, { tty: true, verb: 'push' });
 *   pushImage(client, source, { onEvent: (e) => view.event(e) }); … view.finish();
 */
import type { Writable } from 'node:stream';
import { digestHex, type TransferEvent } from '../image/index.ts';

const BAR_WIDTH = 50;
const REDRAW_MS = 100;

/** docker's units.HumanSize: decimal units, four significant digits. */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** `[=====>     ] 1.2MB/3.4MB` as docker's JSONProgress draws it. */
export function progressBar(current: number, total: number): string {
  const frac = total <= 0 ? 1 : Math.min(1, current / total);
  const filled = Math.floor(frac * BAR_WIDTH);
  const bar = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}`.padEnd(BAR_WIDTH, ' ');
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

type Verb = 'push' | 'pull';

interface Line {
  readonly id: string;
  text: string;
  /** Bytes moved and the total, drawn as a bar after `text` (undefined: no bar). */
  bytes: number | undefined;
  readonly total: number;
  done: boolean;
}

export interface ProgressViewOptions {
  readonly tty: boolean;
  readonly verb: Verb;
  readonly quiet?: boolean;
  /** Repository blobs were mounted from (for `Mounted from …`). */
  readonly mountedFrom?: string;
}

export class ProgressView {
  readonly #out: Writable;
  readonly #o: ProgressViewOptions;
  readonly #lines = new Map<string, Line>();
  readonly #hidden = new Set<string>();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: Writable, o: ProgressViewOptions) {
    this.#out = out;
    this.#o = o;
  }

  event(e: TransferEvent): void {
    if (this.#o.quiet === true) return;
    const id = digestHex(e.desc.digest).slice(0, 12);
    if (e.type === 'queued') {
      if (e.role === 'config') this.#hidden.add(id);
      else if (!this.#lines.has(id)) this.#lines.set(id, { id, text: this.#o.verb === 'push' ? 'Preparing' : 'Pulling fs layer', bytes: undefined, total: e.desc.size, done: false });
      this.#schedule();
      return;
    }
    const line = this.#lines.get(id);
    if (line === undefined || this.#hidden.has(id)) return;
    switch (e.type) {
      case 'started':
        line.text = this.#o.verb === 'push' ? 'Pushing' : 'Downloading';
        break;
      case 'progress':
        // only the count: the bar is drawn at most ten times a second, not once per chunk
        if (!this.#o.tty) return;
        line.bytes = e.bytes;
        break;
      case 'retrying':
        line.text = `Retrying (${e.error.message.slice(0, 60)})`;
        line.bytes = undefined;
        break;
      case 'done': {
        const words: Record<string, string> = {
          uploaded: 'Pushed',
          exists: 'Layer already exists',
          mounted: `Mounted from ${this.#o.mountedFrom ?? 'another repository'}`,
          downloaded: 'Pull complete',
          present: 'Already exists',
        };
        line.text = words[e.result] ?? e.result;
        line.bytes = undefined;
        line.done = true;
        if (!this.#o.tty) this.#out.write(`${id}: ${line.text}\n`);
        break;
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#o.tty || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, REDRAW_MS);
  }

  #draw(): void {
    let s = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const l of this.#lines.values()) s += `\x1b[2K\r${l.id}: ${l.text}${l.bytes === undefined ? '' : ` ${progressBar(l.bytes, l.total)}`}\n`;
    this.#drawn = this.#lines.size;
    this.#out.write(s);
  }

  /** Draw the final state (terminal) and stop redrawing. */
  finish(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#o.tty && this.#o.quiet !== true && this.#lines.size > 0) this.#draw();
  }
}
