/**
 * `vouch trust inspect [--pretty] IMAGE[:TAG]…` (spec §12.2): what docker prints, from the
 * trust server with a pull-only token. JSON (default): one object per argument in an array
 * indented by 4; an argument that fails adds its error (`no signatures or cannot access R`) on
 * standard error and makes the exit code 1, the others are still printed. `--pretty`: docker's
 * three sections per argument, separated by two newlines; the first failure stops it.
 * `--pretty --output json` (vouch): the rows of those tables as JSON, one line.
 */
import type { TrustCommandSpec, TrustInvocation } from './trust-cli.ts';
import { inspectJson, inspectOutput, prettyJson, prettyText, trustInfo, type TrustInfo } from './trust-inspect.ts';
import { parseImageRef } from './trust-ref.ts';
import { notaryError } from './trust-session.ts';
import { jsonLine, parseOutputFormat } from './tables.ts';

/** docker's lookupTrustInfo for one argument. @throws Error with docker's words */
async function lookupTrustInfo(inv: TrustInvocation, remote: string): Promise<TrustInfo> {
  const ref = parseImageRef(remote);
  let conn;
  try {
    conn = await inv.session.connect(ref, 'readOnly');
  } catch (err) {
    throw notaryError(ref.gun, err);
  }
  const repo = await inv.session.repository(conn);
  await repo.changelist.clear();
  try {
    const trusted = await inv.session.trusted(conn);
    return trustInfo(trusted, ref.tag);
  } catch (err) {
    throw new Error(`no signatures or cannot access ${remote}`, { cause: err });
  } finally {
    await repo.changelist.clear();
  }
}

async function inspect(inv: TrustInvocation): Promise<void> {
  const format = parseOutputFormat(inv.flags['output'] as string | undefined);
  if (inv.flags['pretty'] === true) {
    const objects: object[] = [];
    for (const [i, remote] of inv.args.entries()) {
      const info = await lookupTrustInfo(inv, remote).catch((err: unknown) => {
        if (format === 'json' && objects.length > 0) inv.out(jsonLine(objects));
        throw err;
      });
      if (format === 'json') objects.push(prettyJson(remote, info));
      else inv.out(prettyText(remote, info) + (i < inv.args.length - 1 ? '\n\n' : ''));
    }
    if (format === 'json') inv.out(jsonLine(objects));
    return;
  }
  const objects: object[] = [];
  const errors: string[] = [];
  for (const remote of inv.args) {
    try {
      objects.push(inspectJson(remote, await lookupTrustInfo(inv, remote)));
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  inv.out(inspectOutput(objects));
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

export const TRUST_INSPECT_COMMAND: TrustCommandSpec = {
  use: 'inspect IMAGE[:TAG] [IMAGE[:TAG]...]',
  short: 'Return low-level information about keys and signatures',
  args: [1, undefined],
  flags: [
    { name: 'pretty', kind: 'bool', help: 'Print the information in a human friendly format' },
    { name: 'output', short: 'o', kind: 'string', help: 'With --pretty: "table" (default) or "json" for the rows of the tables' },
  ],
  run: inspect,
};
