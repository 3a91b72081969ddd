/**
 * `vouch push`/`vouch pull` against skopeo: the same 1 GiB image of 8 layers pushed into and
 * pulled out of the same registry (distribution's `docker-registry`, plain HTTP on 127.0.0.1, no
 * auth) by both clients in one run, throughputs printed as ratios.
 *
 * Goals (the issue's): vouch's push and pull throughput each at least skopeo's (ratio ≥ 1.00),
 * for the pull at least that of skopeo's faster sink.
 *
 * Fairness: both read the same OCI layout (gzip'd tar layers of random bytes, made once per run,
 * or reused from BENCH_IMG_IMAGE); every push goes into a registry restarted on an emptied
 * storage dir, so neither finds blobs the other left; rounds alternate which client goes first;
 * the median round counts. Both pulls verify every digest. vouch pulls into an OCI layout;
 * skopeo into both `dir:` and `oci:` (which goes first alternates by round, since a second pull
 * from the same registry tends to be faster), and the goal compares vouch with the faster of the
 * two. Each client is a fresh process, start-up included.
 * The vouch process's peak resident memory is reported (blobs stream; it should stay flat).
 *
 * Run from the repository root: `npm run bench:image` (Node 24). Knobs (environment):
 * BENCH_IMG_ROUNDS (3), BENCH_IMG_MIB (1024), BENCH_IMG_LAYERS (8), BENCH_IMG_IMAGE (a directory
 * to build the image in once and reuse), BENCH_KEEP (0: remove the temp dir). Results are printed
 * and written to bench/results/image-<date>.json.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TAR_END, tarHeader, tarPadding } from '../src/image/index.ts';
import { freePort, REPO_ROOT, VOUCH_BIN } from '../test/support/servers.ts';
import { installCleanup, onExit, spawnTracked, treeMemory } from './lib/processes.ts';

const MiB = 1024 * 1024;

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const settings = {
  rounds: envInt('BENCH_IMG_ROUNDS', 3, 1),
  mib: envInt('BENCH_IMG_MIB', 1024, 8),
  layers: envInt('BENCH_IMG_LAYERS', 8, 1),
  keep: envInt('BENCH_KEEP', 0, 0) !== 0,
  imageDir: process.env['BENCH_IMG_IMAGE'],
};

// ------------------------------------------------------------------ the image

interface Image {
  readonly dir: string;
  readonly digest: string;
  readonly bytes: number;
}

/** One layer: a tar holding one file of random bytes, gzip'd at level 0, streamed to disk. */
async function writeLayer(blobs: string, bytes: number, name: string): Promise<{ digest: string; size: number; diffId: string }> {
  function* tar(): Generator<Buffer> {
    yield tarHeader({ name, size: bytes });
    for (let left = bytes; left > 0; left -= MiB) yield randomFillSync(Buffer.allocUnsafe(Math.min(MiB, left)));
    yield tarPadding(bytes);
    yield TAR_END;
  }
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let size = 0;
  const tmp = join(blobs, `tmp-${name}`);
  await pipeline(
    Readable.from(tar()),
    new Transform({ transform: (c: Buffer, _e, cb) => (tarHash.update(c), cb(null, c)) }),
    createGzip({ level: 0 }),
    new Transform({ transform: (c: Buffer, _e, cb) => (gzHash.update(c), (size += c.length), cb(null, c)) }),
    createWriteStream(tmp),
  );
  const hex = gzHash.digest('hex');
  await rename(tmp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size, diffId: `sha256:${tarHash.digest('hex')}` };
}

async function jsonBlob(blobs: string, value: unknown): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobs, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

async function buildImage(dir: string): Promise<Image> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const per = Math.floor((settings.mib * MiB) / settings.layers);
  const layers = [];
  for (let i = 0; i < settings.layers; i++) layers.push(await writeLayer(blobs, per, `layer-${i}.bin`));
  const config = await jsonBlob(blobs, { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } });
  const manifest = await jsonBlob(blobs, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }),
  );
  return { dir, digest: manifest.digest, bytes: layers.reduce((n, l) => n + l.size, 0) + config.size + manifest.size };
}

async function prepareImage(work: string): Promise<Image> {
  const dir = settings.imageDir ?? join(work, 'image');
  const stamp = join(dir, 'bench-image.json');
  try {
    const cached = JSON.parse(await readFile(stamp, 'utf8')) as { mib: number; layers: number; digest: string; bytes: number };
    if (cached.mib === settings.mib && cached.layers === settings.layers) {
      process.stdout.write(`reusing the image in ${dir}\n`);
      return { dir, digest: cached.digest, bytes: cached.bytes };
    }
  } catch {
    // nothing to reuse
  }
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`building a ${settings.mib} MiB image of ${settings.layers} layers in ${dir}\n`);
  const image = await buildImage(dir);
  await writeFile(stamp, JSON.stringify({ mib: settings.mib, layers: settings.layers, digest: image.digest, bytes: image.bytes }));
  return image;
}

// ------------------------------------------------------------------ registry and clients

async function startRegistry(storage: string, work: string): Promise<{ host: string; stop(): Promise<void> }> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(work, `docker-registry-${port}.yml`);
  await writeFile(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`);
  const { child, exited, output } = spawnTracked('docker-registry', ['serve', config]);
  let gone: string | undefined;
  void exited.then((s) => (gone = s));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone !== undefined) throw new Error(`docker-registry ${gone}:\n${output()}`);
    try {
      if ((await fetch(`http://${host}/v2/`)).status === 200) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Run a client to completion; wall seconds and the peak RSS of its process tree. */
async function timed(cmd: string, args: readonly string[]): Promise<{ s: number; peakKiB: number }> {
  const t = performance.now();
  const { child, exited, output } = spawnTracked(cmd, args);
  let peak = 0;
  const sample = (): void => {
    try {
      peak = Math.max(peak, treeMemory(child.pid as number).hwmKiB);
    } catch {
      // exiting
    }
  };
  const timer = setInterval(sample, 50);
  const status = await exited;
  clearInterval(timer);
  const s = (performance.now() - t) / 1000;
  if (!status.includes('code 0')) throw new Error(`${cmd} ${args.join(' ')} ${status}:\n${output()}`);
  return { s, peakKiB: peak };
}

const vouch = (args: readonly string[]): Promise<{ s: number; peakKiB: number }> => timed(process.execPath, ['--disable-warning=ExperimentalWarning', VOUCH_BIN, ...args]);
/** skopeo with its blob-info cache emptied first, so it cannot skip uploads it made into an earlier registry on the same port. */
async function skopeo(args: readonly string[]): Promise<{ s: number; peakKiB: number }> {
  await rm(join(process.env['HOME'] as string, '.local'), { recursive: true, force: true });
  await rm(join(process.env['HOME'] as string, '.cache'), { recursive: true, force: true });
  return timed('skopeo', args);
}

type Client = 'skopeo' | 'vouch';

interface Round {
  readonly pushS: number;
  readonly pullS: number;
  readonly peakKiB: number;
  /** skopeo only: the same pull into an oci: layout. */
  readonly pullOciS?: number;
}

async function manifestDigestIn(file: string): Promise<string> {
  return `sha256:${createHash('sha256').update(await readFile(file)).digest('hex')}`;
}

async function round(client: Client, image: Image, work: string, n: number): Promise<Round> {
  const storage = join(work, `storage-${client}-${n}`);
  const out = join(work, `pulled-${client}-${n}`);
  await rm(storage, { recursive: true, force: true });
  await mkdir(storage, { recursive: true });
  const reg = await startRegistry(storage, work);
  const name = `${reg.host}/bench/image:1`;
  try {
    if (client === 'vouch') {
      const push = await vouch(['push', '-q', '-i', image.dir, name]);
      const pull = await vouch(['pull', '-q', '-o', out, name]);
      const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      if (index.manifests[0]?.digest !== image.digest) throw new Error(`vouch pulled ${index.manifests[0]?.digest}, pushed ${image.digest}`);
      return { pushS: push.s, pullS: pull.s, peakKiB: Math.max(push.peakKiB, pull.peakKiB) };
    }
    const push = await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${image.dir}:latest`, `docker://${name}`]);
    // both sinks, the first alternating by round (a second pull from the same registry tends to be faster)
    const pullDir = async (): Promise<{ s: number; peakKiB: number }> => {
      const r = await skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `dir:${out}`]);
      const pulled = await manifestDigestIn(join(out, 'manifest.json'));
      if (pulled !== image.digest) throw new Error(`skopeo pulled ${pulled}, pushed ${image.digest}`);
      return r;
    };
    const pullOci = (): Promise<{ s: number; peakKiB: number }> => skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `oci:${out}-oci:latest`]);
    const [dir, oci] = n % 2 === 0 ? [await pullDir(), await pullOci()] : await (async () => {
      const o = await pullOci();
      return [await pullDir(), o];
    })();
    return { pushS: push.s, pullS: dir.s, pullOciS: oci.s, peakKiB: Math.max(push.peakKiB, dir.peakKiB, oci.peakKiB) };
  } finally {
    await reg.stop();
    await rm(out, { recursive: true, force: true });
    await rm(`${out}-oci`, { recursive: true, force: true });
    await rm(storage, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  installCleanup();
  const work = await mkdtemp(join(tmpdir(), 'vouch-bench-image-'));
  if (!settings.keep) onExit(() => rmSync(work, { recursive: true, force: true }));
  // both clients see an empty environment of their own: no logins, no skopeo caches
  const home = join(work, 'home');
  await mkdir(home, { recursive: true });
  Object.assign(process.env, { HOME: home, DOCKER_CONFIG: join(home, '.docker'), XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: join(home, '.config') });
  // not REGISTRY_AUTH_FILE: docker-registry reads REGISTRY_* variables as configuration
  delete process.env['REGISTRY_AUTH_FILE'];
  delete process.env['DOCKER_CONTENT_TRUST'];
  const image = await prepareImage(work);
  const results: Record<Client, Round[]> = { skopeo: [], vouch: [] };
  const loadBefore = loadavg()[0] as number;
  for (let n = 0; n < settings.rounds; n++) {
    const order: Client[] = n % 2 === 0 ? ['skopeo', 'vouch'] : ['vouch', 'skopeo'];
    for (const client of order) {
      // a pull from a previous round must not be reused through the page cache of its output
      const r = await round(client, image, work, n);
      results[client].push(r);
      process.stdout.write(
        `round ${n + 1} ${client.padEnd(7)} push ${(image.bytes / MiB / r.pushS).toFixed(0).padStart(5)} MiB/s  pull ${(image.bytes / MiB / r.pullS).toFixed(0).padStart(5)} MiB/s  peak RSS ${(r.peakKiB / 1024).toFixed(0)} MiB\n`,
      );
    }
  }
  const loadAfter = loadavg()[0] as number;
  const tput = (c: Client, k: 'pushS' | 'pullS'): number => image.bytes / MiB / median(results[c].map((r) => r[k]));
  const push = { vouch: tput('vouch', 'pushS'), skopeo: tput('skopeo', 'pushS') };
  const pull = { vouch: tput('vouch', 'pullS'), skopeo: tput('skopeo', 'pullS') };
  const skopeoOci = image.bytes / MiB / median(results.skopeo.map((r) => r.pullOciS ?? Infinity));
  const skopeoBestPull = Math.max(pull.skopeo, skopeoOci);
  const peakMiB = (c: Client): number => Math.max(...results[c].map((r) => r.peakKiB)) / 1024;
  const goals = [
    { goal: 'push throughput ≥ skopeo', value: `${(push.vouch / push.skopeo).toFixed(2)}×`, pass: push.vouch >= push.skopeo },
    { goal: "pull throughput ≥ skopeo's faster sink", value: `${(pull.vouch / skopeoBestPull).toFixed(2)}×`, pass: pull.vouch >= skopeoBestPull },
  ];
  const lines = [
    '',
    `image: ${(image.bytes / MiB).toFixed(0)} MiB in ${settings.layers} layers; docker-registry on 127.0.0.1; ${settings.rounds} rounds, median`,
    `          push MiB/s   pull MiB/s   peak RSS MiB`,
    `skopeo    ${push.skopeo.toFixed(0).padStart(10)}   ${pull.skopeo.toFixed(0).padStart(10)}   ${peakMiB('skopeo').toFixed(0).padStart(12)}   (pull into dir:; into oci: ${skopeoOci.toFixed(0)} MiB/s)`,
    `vouch     ${push.vouch.toFixed(0).padStart(10)}   ${pull.vouch.toFixed(0).padStart(10)}   ${peakMiB('vouch').toFixed(0).padStart(12)}   (pull into an OCI layout)`,
    `ratios vouch/skopeo: push ${(push.vouch / push.skopeo).toFixed(2)}×, pull ${(pull.vouch / pull.skopeo).toFixed(2)}× against dir:, ${(pull.vouch / skopeoOci).toFixed(2)}× against oci:`,
    `load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (${availableParallelism()} CPUs); a busy machine makes the ratios noisy`,
    '',
    ...goals.map((g) => `${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.value}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const file = join(REPO_ROOT, 'bench', 'results', `image-${new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\d\dZ$/, 'Z')}.json`);
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(file, JSON.stringify({ settings, imageBytes: image.bytes, results, push, pull, skopeoOciPull: skopeoOci, load: [loadBefore, loadAfter], goals }, null, 2) + '\n');
  process.stdout.write(`results written to ${file}\n`);
  if (!goals.every((g) => g.pass)) process.exitCode = 1;
}

await main();
