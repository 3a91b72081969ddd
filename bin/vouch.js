#!/usr/bin/env node
/**
 * The installed `vouch` command (package.json "bin"): a plain JavaScript launcher that turns on
 * Node's compile cache and then runs src/bin/vouch.ts.
 *
 * Started as `node src/bin/vouch.ts`, Node must strip the types of that entry module before any
 * of its code can call `module.enableCompileCache()`; doing so loads Node's TypeScript stripper
 * (a WebAssembly module) on every run, tens of milliseconds of a `vouch list`. Here nothing needs
 * stripping before the cache is on, so with a warm cache every module, the entry included, comes
 * compiled from the cache and the stripper is never loaded.
 *
 * The cache follows Node's rules: `NODE_COMPILE_CACHE` names the directory (default
 * `<tmpdir>/node-compile-cache`), `NODE_DISABLE_COMPILE_CACHE=1` turns it off. A directory that
 * cannot be created or written only means no cache: the modules are compiled as without one.
 *
 * Example: bin/vouch.js -s https://notary.example.com list example.com/app
 */
import module from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  // src/ is TypeScript that Node runs by stripping its types, which needs Node 24 (package.json "engines")
  process.stderr.write(`vouch: needs Node.js 24 or later, this is ${process.version} (${process.execPath})\n`);
  process.exit(1);
}
try {
  module.enableCompileCache(); // a directory it cannot use is reported in its result, not thrown
} catch {
  // no usable cache: every module is compiled as without one
}

// vouch's own modules import each other by relative `.ts` paths inside src/. Resolving those
// needs none of the default resolver's file-system work (a stat and a realpath per module, a
// package.json lookup for its format): the URL is the specifier against its parent's, the format
// is TypeScript as an ES module (package.json "type": "module"). Everything else (packages,
// node: builtins, paths leaving src/) goes to the default resolver. A missing file still fails,
// when it is loaded. About 15 ms of CPU of each command's start-up.
const SRC = new URL('../src/', import.meta.url).href;
if (typeof module.registerHooks === 'function') {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent !== undefined && parent.startsWith(SRC) && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.ts')) {
        const url = new URL(specifier, parent).href;
        if (url.startsWith(SRC)) return { url, format: 'module-typescript', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}
const { run } = await import('../src/bin/vouch.ts');
await run(process.argv);
