/**
 * vouch's registry against distribution's `docker-registry`: skopeo copies a 1 GiB image of 8
 * layers into each registry and back out, in one run, and the throughputs are printed as ratios.
 *
 * Goals (the issue's): push ≥ 1.5× docker-registry's throughput, pull ≥ 1.2×, and vouch's
 * resident memory under 200 MiB throughout (VmHWM of the registry process, which is restarted,
 * on an emptied storage dir, before every push, so its peak covers exactly one push and pull).
 *
 * Same client (skopeo, plain HTTP on 127.0.0.1, no auth), same image (an OCI layout of gzip'd
 * tar layers of random bytes, made once per run), same disk. Rounds alternate which registry
 * goes first so drift hits both alike; the median round is reported. The pull writes to a fresh
 * `dir:` directory (skopeo's cheapest sink: its `oci:` sink flushes every blob to disk, which
 * would hide the registries behind the client) and the pulled manifest's digest is checked.
 *
 * vouch runs in its own process (bench/registry-server.ts), with its default of flushing blobs to
 * disk before publishing them (BENCH_REG_SYNC=0 turns that off, as docker-registry never flushes).
 *
 * Run from the repository root: `npm run bench:registry` (Node 24). Knobs (environment):
 * BENCH_REG_ROUNDS (3), BENCH_REG_MIB (1024), BENCH_REG_LAYERS (8), BENCH_REG_SYNC (1),
 * BENCH_REG_IMAGE (a directory to build the image in once and reuse), BENCH_KEEP (0: remove the temp dir). Results are printed and written to
 * bench/results/registry-<date>.json.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { randomFillSync } from 'node:crypto';
import { runCommand } from '../test/support/exec.ts';
import { freePort, REPO_ROOT } from '../test/support/servers.ts';
import { installCleanup, onExit, spawnTracked, treeMemory } from './lib/processes.ts';

const MiB = 1024 * 1024;
type Subject = 'docker-registry' | 'vouch';

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const settings = {
  rounds: envInt('BENCH_REG_ROUNDS', 3, 1),
  mib: envInt('BENCH_REG_MIB', 1024, 8),
  layers: envInt('BENCH_REG_LAYERS', 8, 1),
  sync: envInt('BENCH_REG_SYNC', 1, 0) !== 0,
  keep: envInt('BENCH_KEEP', 0, 0) !== 0,
  /** Where to build the image, or reuse one built there by an earlier run (kept). */
  imageDir: process.env['BENCH_REG_IMAGE'],
};

// ------------------------------------------------------------------ the image

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** One layer: a tar of one file of random bytes, gzip'd without compression, streamed to disk. */
async function writeLayer(blobsDir: string, bytes: number, name: string): Promise<{ desc: Desc; diffId: string }> {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(bytes.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  function* tar(): Generator<Buffer> {
    yield header;
    for (let left = bytes; left > 0; left -= MiB) yield randomFillSync(Buffer.allocUnsafe(Math.min(MiB, left)));
    yield Buffer.alloc((512 - (bytes % 512)) % 512 + 1024);
  }
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let size = 0;
  const tmp = join(blobsDir, `tmp-${name}`);
  await pipeline(
    Readable.from(tar()),
    new Transform({ transform: (c: Buffer, _e, cb) => (tarHash.update(c), cb(null, c)) }),
    createGzip({ level: 0 }),
    new Transform({ transform: (c: Buffer, _e, cb) => (gzHash.update(c), (size += c.length), cb(null, c)) }),
    createWriteStream(tmp),
  );
  const hex = gzHash.digest('hex');
  const { rename } = await import('node:fs/promises');
  await rename(tmp, join(blobsDir, hex));
  return { desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size }, diffId: `sha256:${tarHash.digest('hex')}` };
}

async function writeJsonBlob(blobsDir: string, value: unknown, mediaType: string): Promise<Desc> {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobsDir, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

async function buildImage(dir: string): Promise<{ dir: string; digest: string; bytes: number }> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const per = Math.floor((settings.mib * MiB) / settings.layers);
  const layers: Desc[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < settings.layers; i++) {
    const l = await writeLayer(blobsDir, per, `layer-${i}.bin`);
    layers.push(l.desc);
    diffIds.push(l.diffId);
  }
  const config = await writeJsonBlob(blobsDir, { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }, 'application/vnd.oci.image.config.v1+json');
  const manifest = await writeJsonBlob(blobsDir, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }, 'application/vnd.oci.image.manifest.v1+json');
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
  const bytes = layers.reduce((n, l) => n + l.size, 0) + config.size + manifest.size;
  return { dir, digest: manifest.digest, bytes };
}

/** Build the image (or reuse the one in BENCH_REG_IMAGE, when it was built with the same settings). */
async function prepareImage(work: string): Promise<{ dir: string; digest: string; bytes: number }> {
  const dir = settings.imageDir ?? join(work, 'image');
  const stamp = join(dir, 'bench-image.json');
  try {
    const cached = JSON.parse(await readFile(stamp, 'utf8')) as { mib: number; layers: number; digest: string; bytes: number };
    if (cached.mib === settings.mib && cached.layers === settings.layers) {
      process.stdout.write(`reusing the image in ${dir}\n`);
      return { dir, digest: cached.digest, bytes: cached.bytes };
    }
  } catch {
    // nothing reusable there
  }
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`building a ${settings.mib} MiB image of ${settings.layers} layers in ${dir}\n`);
  const image = await buildImage(dir);
  await writeFile(stamp, JSON.stringify({ mib: settings.mib, layers: settings.layers, digest: image.digest, bytes: image.bytes }));
  return image;
}

// ------------------------------------------------------------------ the registries

interface Started {
  readonly host: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function waitReady(host: string, exited: Promise<string>, output: () => string): Promise<void> {
  let gone: string | undefined;
  void exited.then((s) => (gone = s));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone !== undefined) throw new Error(`registry ${gone}:\n${output()}`);
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`registry on ${host} did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(subject: Subject, storage: string, work: string): Promise<Started> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let proc;
  if (subject === 'vouch') {
    const args = ['--disable-warning=ExperimentalWarning', join(REPO_ROOT, 'bench', 'registry-server.ts'), storage, String(port)];
    if (!settings.sync) args.push('--no-sync');
    proc = spawnTracked(process.execPath, args);
  } else {
    const config = join(work, `docker-registry-${port}.yml`);
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`,
    );
    proc = spawnTracked('docker-registry', ['serve', config]);
  }
  const { child, exited, output } = proc;
  await waitReady(host, exited, output);
  return {
    host,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

// ------------------------------------------------------------------ one round

interface RoundResult {
  readonly pushS: number;
  readonly pullS: number;
  readonly maxRssKiB: number;
  readonly hwmKiB: number;
}

async function skopeo(home: string, args: string[]): Promise<void> {
  // skopeo remembers blobs it has seen (and where) in $HOME; every copy starts without that memory.
  await rm(join(home, '.local', 'share', 'containers'), { recursive: true, force: true });
  const r = await runCommand('skopeo', args, {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: home, REGISTRY_AUTH_FILE: join(home, 'auth.json') },
    timeoutMs: 30 * 60_000,
  });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
}

async function round(subject: Subject, image: { dir: string; digest: string }, work: string, n: number): Promise<RoundResult> {
  const storage = join(work, `storage-${subject}-${n}`);
  const out = join(work, `pulled-${subject}-${n}`);
  await rm(storage, { recursive: true, force: true });
  await mkdir(storage, { recursive: true });
  const reg = await start(subject, storage, work);
  let maxRss = 0;
  const sample = (): void => {
    try {
      maxRss = Math.max(maxRss, treeMemory(reg.pid).rssKiB);
    } catch {
      // exiting
    }
  };
  const timer = setInterval(sample, 50);
  try {
    const ref = `docker://${reg.host}/bench/image:1`;
    let t = performance.now();
    await skopeo(work, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${image.dir}:latest`, ref]);
    const pushS = (performance.now() - t) / 1000;
    t = performance.now();
    await skopeo(work, ['copy', '--quiet', '--src-tls-verify=false', ref, `dir:${out}`]);
    const pullS = (performance.now() - t) / 1000;
    const pulled = `sha256:${createHash('sha256').update(await readFile(join(out, 'manifest.json'))).digest('hex')}`;
    if (pulled !== image.digest) throw new Error(`${subject}: pulled ${pulled}, pushed ${image.digest}`);
    sample();
    const hwmKiB = treeMemory(reg.pid).hwmKiB;
    return { pushS, pullS, maxRssKiB: maxRss, hwmKiB };
  } finally {
    clearInterval(timer);
    await reg.stop();
    await rm(out, { recursive: true, force: true });
    await rm(storage, { recursive: true, force: true });
  }
}

/** skopeo copying the image from the layout to a `dir:` with no registry in between: the client's ceiling. */
async function skopeoAlone(image: { dir: string }, work: string): Promise<number> {
  const out = join(work, 'alone');
  await rm(out, { recursive: true, force: true });
  const t = performance.now();
  await skopeo(work, ['copy', '--quiet', `oci:${image.dir}:latest`, `dir:${out}`]);
  const s = (performance.now() - t) / 1000;
  await rm(out, { recursive: true, force: true });
  return s;
}

// ------------------------------------------------------------------ report

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  installCleanup();
  const work = await mkdtemp(join(tmpdir(), 'vouch-bench-registry-'));
  if (!settings.keep) onExit(() => rmSync(work, { recursive: true, force: true }));
  const image = await prepareImage(work);
  const results: Record<Subject, RoundResult[]> = { 'docker-registry': [], vouch: [] };
  const clientAlone: number[] = [];
  const loadBefore = loadavg()[0] as number;
  for (let n = 0; n < settings.rounds; n++) {
    clientAlone.push(await skopeoAlone(image, work));
    const order: Subject[] = n % 2 === 0 ? ['docker-registry', 'vouch'] : ['vouch', 'docker-registry'];
    for (const subject of order) {
      const r = await round(subject, image, work, n);
      results[subject].push(r);
      process.stdout.write(
        `round ${n + 1} ${subject.padEnd(15)} push ${(image.bytes / MiB / r.pushS).toFixed(0).padStart(5)} MiB/s  pull ${(image.bytes / MiB / r.pullS).toFixed(0).padStart(5)} MiB/s  peak RSS ${(r.hwmKiB / 1024).toFixed(0)} MiB\n`,
      );
    }
  }
  const loadAfter = loadavg()[0] as number;
  const ceiling = image.bytes / MiB / median(clientAlone);
  const tput = (s: Subject, k: 'pushS' | 'pullS'): number => image.bytes / MiB / median(results[s].map((r) => r[k]));
  const push = { vouch: tput('vouch', 'pushS'), base: tput('docker-registry', 'pushS') };
  const pull = { vouch: tput('vouch', 'pullS'), base: tput('docker-registry', 'pullS') };
  const peakMiB = Math.max(...results.vouch.map((r) => Math.max(r.hwmKiB, r.maxRssKiB))) / 1024;
  const baseMiB = Math.max(...results['docker-registry'].map((r) => Math.max(r.hwmKiB, r.maxRssKiB))) / 1024;
  const goals = [
    { goal: 'push throughput ≥ 1.5× docker-registry', value: `${(push.vouch / push.base).toFixed(2)}×`, pass: push.vouch >= 1.5 * push.base },
    { goal: 'pull throughput ≥ 1.2× docker-registry', value: `${(pull.vouch / pull.base).toFixed(2)}×`, pass: pull.vouch >= 1.2 * pull.base },
    { goal: 'vouch resident memory < 200 MiB', value: `${peakMiB.toFixed(0)} MiB`, pass: peakMiB < 200 },
  ];
  const lines = [
    '',
    `image: ${(image.bytes / MiB).toFixed(0)} MiB in ${settings.layers} layers; ${settings.rounds} rounds, median; vouch sync=${settings.sync}`,
    `                  push MiB/s   pull MiB/s   peak RSS MiB`,
    `docker-registry   ${push.base.toFixed(0).padStart(10)}   ${pull.base.toFixed(0).padStart(10)}   ${baseMiB.toFixed(0).padStart(12)}`,
    `vouch             ${push.vouch.toFixed(0).padStart(10)}   ${pull.vouch.toFixed(0).padStart(10)}   ${peakMiB.toFixed(0).padStart(12)}`,
    `skopeo alone (oci: → dir:, no registry): ${ceiling.toFixed(0)} MiB/s, the client's own ceiling`,
    `load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (${availableParallelism()} CPUs); a busy machine makes the ratios noisy`,
    '',
    ...goals.map((g) => `${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.value}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const file = join(REPO_ROOT, 'bench', 'results', `registry-${new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\d\dZ$/, 'Z')}.json`);
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(file, JSON.stringify({ settings, imageBytes: image.bytes, results, clientAloneS: clientAlone, load: [loadBefore, loadAfter], push, pull, peakMiB, goals }, null, 2) + '\n');
  process.stdout.write(`results written to ${file}\n`);
  if (!goals.every((g) => g.pass)) process.exitCode = 1;
}

await main();
