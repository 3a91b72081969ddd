/**
 * `vouch policy …` and `vouch user …`: the admin commands of `vouch serve`, thin over its admin
 * API (admin-client.ts says how the server and the credentials are found).
 *
 *   vouch policy list   [--output json]
 *   vouch policy get    NAMESPACE [--output json]
 *   vouch policy set    NAMESPACE [--enforce | --no-enforce] [--pin-root KEYID | --no-pin-root]
 *                       [--require-signer NAME…] [--no-require-signer]
 *                       [--anonymous-pull | --no-anonymous-pull] [--output json]
 *   vouch policy remove NAMESPACE
 *   vouch user list     [--output json]
 *   vouch user add      NAME [--admin] [--grant NAMESPACE…] [--password-stdin]
 *   vouch user passwd   NAME [--password-stdin]
 *   vouch user remove   NAME
 *   vouch user grant    NAME NAMESPACE      vouch user revoke NAME NAMESPACE
 *
 * `policy set` changes only what its flags name, starting from the namespace's own setting (or
 * the defaults: not enforced, no pin, no required signers, no anonymous pull); `--require-signer`
 * replaces the list. `--anonymous-pull` lets anyone pull below the namespace without logging in
 * (push and delete stay with the users granted it).
 * `user add` and `user passwd` read the new password from standard input with
 * `--password-stdin`, else generate one and print it. Every command takes the global
 * `-s/--server` and `--tlscacert`, and `--username` (password in `$VOUCH_PASSWORD`).
 * Exit code 1 with `vouch: <reason>` on stderr when the server refuses.
 *
 * Example:
 *   vouch policy set team --enforce --require-signer alice -s 127.0.0.1:5000
 *   vouch policy set library --anonymous-pull -s 127.0.0.1:5000
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
// The client (and with it src/http) loads only when an admin command runs.
import type { AdminClient } from './admin-client.ts';
import { processIo, readAll, type CliIo } from './io.ts';
import { formatTabs } from './tabwriter.ts';

export interface AdminCommandDeps {
  readonly io?: CliIo;
  /** Used instead of `AdminClient.connect` (tests). */
  readonly connect?: (o: { server?: string; tlsCaFile?: string; username?: string }) => Promise<Pick<AdminClient, 'call'>>;
}

interface PolicyJson {
  namespace: string;
  enforce: boolean;
  pinned_root_key: string | null;
  required_signers: string[];
  /** Absent from servers that predate the setting. */
  anonymous_pull?: boolean;
  applies_from?: string | null;
  anonymous_pull_from?: string | null;
}

interface UserJson {
  name: string;
  admin: boolean;
  created: string;
  grants: string[];
}

const LAYOUT = { minWidth: 0, padding: 2 } as const;
const enc = encodeURIComponent;
const nsPath = (ns: string): string => ns.split('/').map(enc).join('/');

function policyText(p: PolicyJson): string {
  const rows = [
    ['namespace', p.namespace],
    ['enforce', p.enforce ? 'on' : 'off'],
    ['pinned root key', p.pinned_root_key ?? '-'],
    ['required signers', p.required_signers.length === 0 ? '-' : p.required_signers.join(', ')],
    ['anonymous pull', `${p.anonymous_pull === true ? 'on' : 'off'}${p.anonymous_pull_from !== undefined && p.anonymous_pull_from !== null && p.anonymous_pull_from !== p.applies_from ? ` (set on ${p.anonymous_pull_from})` : ''}`],
  ];
  if (p.applies_from !== undefined) rows.push(['applies from', p.applies_from ?? '- (no setting: not enforced)']);
  return formatTabs(rows.map((r) => `${r.join(':\t')}\n`).join(''), LAYOUT);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return formatTabs([header, ...rows].map((r) => `${r.join('\t')}\n`).join(''), { minWidth: 0, padding: 3 });
}

/** Register `policy` and `user` on `program`. */
export function registerAdminCommands(program: Command, deps: AdminCommandDeps = {}): void {
  const io = (): CliIo => deps.io ?? processIo();
  const client = async (cmd: Command): Promise<Pick<AdminClient, 'call'>> => {
    const g = cmd.optsWithGlobals() as { server?: string; tlscacert?: string; username?: string };
    const o = { ...(g.server === undefined ? {} : { server: g.server }), ...(g.tlscacert === undefined ? {} : { tlsCaFile: g.tlscacert }), ...(g.username === undefined ? {} : { username: g.username }) };
    if (deps.connect !== undefined) return deps.connect(o);
    const { env, cwd } = io();
    const { AdminClient } = await import('./admin-client.ts');
    return AdminClient.connect({ ...o, env, cwd });
  };
  const out = (s: string): void => void io().stdout.write(s);
  const json = (v: unknown): void => out(`${JSON.stringify(v, null, 2)}\n`);
  const newPassword = async (stdin: boolean): Promise<{ password: string; generated: boolean }> => {
    if (!stdin) return { password: randomBytes(18).toString('base64url'), generated: true };
    const text = (await readAll(io().stdin)).toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new Error('no password on standard input');
    return { password: text, generated: false };
  };
  const withUserOption = (c: Command): Command => c.option('--username <name>', 'admin user to authenticate as (password in $VOUCH_PASSWORD); default: the docker login for the server');

  const policy = program.command('policy').description('content-trust enforcement and anonymous pull per namespace on a vouch serve registry');
  withUserOption(policy.command('list').description('list every namespace setting').option('--output <format>', 'json'))
    .action(async (o: { output?: string }, cmd: Command) => {
      const r = (await (await client(cmd)).call('GET', '/_vouch/policy')) as { policies: PolicyJson[] };
      if (o.output === 'json') return json(r.policies);
      if (r.policies.length === 0) return out('No namespace settings.\n');
      out(
        table(
          ['NAMESPACE', 'ENFORCE', 'ANONYMOUS PULL', 'PINNED ROOT KEY', 'REQUIRED SIGNERS'],
          r.policies.map((p) => [p.namespace, p.enforce ? 'on' : 'off', p.anonymous_pull === true ? 'on' : 'off', p.pinned_root_key ?? '-', p.required_signers.join(',') || '-']),
        ),
      );
    });
  withUserOption(policy.command('get <namespace>').description('the setting that applies to a namespace').option('--output <format>', 'json'))
    .action(async (ns: string, o: { output?: string }, cmd: Command) => {
      const p = (await (await client(cmd)).call('GET', `/_vouch/policy/${nsPath(ns)}`)) as PolicyJson;
      if (o.output === 'json') json(p);
      else out(policyText(p));
    });
  withUserOption(
    policy
      .command('set <namespace>')
      .description("change a namespace's setting (only what the flags name)")
      .option('--enforce', 'serve only signed content (412 otherwise)')
      .option('--no-enforce', 'serve everything')
      .option('--pin-root <keyid>', "the root key ID the repository's root must be signed with")
      .option('--no-pin-root', 'trust the stored root as it is')
      .option('--require-signer <name...>', 'signers (docker trust signer names) that must all have signed a tag; replaces the list')
      .option('--no-require-signer', 'no required signers')
      .option('--anonymous-pull', 'anyone may pull below the namespace without logging in')
      .option('--no-anonymous-pull', 'only users granted the namespace (and admins) may pull')
      .option('--output <format>', 'json'),
  ).action(async (ns: string, o: { enforce?: boolean; pinRoot?: string | false; requireSigner?: string[] | false; anonymousPull?: boolean; output?: string }, cmd: Command) => {
    const c = await client(cmd);
    const path = `/_vouch/policy/${nsPath(ns)}`;
    const current = (await c.call('GET', path)) as PolicyJson;
    const own = current.applies_from === ns;
    const next = {
      enforce: o.enforce ?? (own ? current.enforce : false),
      pinned_root_key: o.pinRoot === undefined ? (own ? current.pinned_root_key : null) : o.pinRoot === false ? null : o.pinRoot,
      required_signers: o.requireSigner === undefined ? (own ? current.required_signers : []) : o.requireSigner === false ? [] : o.requireSigner,
      // a server that predates anonymous pull settings knows no such field
      ...(o.anonymousPull === undefined && current.anonymous_pull === undefined ? {} : { anonymous_pull: o.anonymousPull ?? (current.anonymous_pull_from === ns ? current.anonymous_pull : false) }),
    };
    const stored = (await c.call('PUT', path, next)) as PolicyJson;
    if (o.output === 'json') json(stored);
    else out(policyText(stored));
  });
  withUserOption(policy.command('remove <namespace>').description("forget a namespace's setting (the closest parent's applies)")).action(async (ns: string, _o: unknown, cmd: Command) => {
    await (await client(cmd)).call('DELETE', `/_vouch/policy/${nsPath(ns)}`);
    out(`Removed the setting of ${ns}\n`);
  });

  const user = program.command('user').description('users of a vouch serve registry');
  withUserOption(user.command('list').description('list users and their namespaces').option('--output <format>', 'json')).action(async (o: { output?: string }, cmd: Command) => {
    const r = (await (await client(cmd)).call('GET', '/_vouch/users')) as { users: UserJson[] };
    if (o.output === 'json') return json(r.users);
    out(table(['NAME', 'ADMIN', 'NAMESPACES', 'CREATED'], r.users.map((u) => [u.name, u.admin ? 'yes' : 'no', u.grants.join(',') || '-', u.created])));
  });
  withUserOption(
    user
      .command('add <name>')
      .description('create a user (pull, push and delete below each --grant namespace)')
      .option('--admin', 'make the user an admin')
      .option('--grant <namespace...>', 'namespaces the user owns')
      .option('--password-stdin', 'read the password from standard input (else one is generated and printed)'),
  ).action(async (name: string, o: { admin?: boolean; grant?: string[]; passwordStdin?: boolean }, cmd: Command) => {
    const c = await client(cmd);
    const { password, generated } = await newPassword(o.passwordStdin === true);
    await c.call('POST', '/_vouch/users', { name, password, admin: o.admin === true });
    for (const ns of o.grant ?? []) await c.call('PUT', `/_vouch/users/${enc(name)}/grants/${nsPath(ns)}`);
    out(`Created user ${name}${o.admin === true ? ' (admin)' : ''}${(o.grant ?? []).length > 0 ? `, owner of ${(o.grant ?? []).join(', ')}` : ''}\n`);
    if (generated) out(`Password: ${password}\n`);
  });
  withUserOption(user.command('passwd <name>').description("set a user's password (their saved logins stop working)").option('--password-stdin', 'read the password from standard input (else one is generated and printed)')).action(
    async (name: string, o: { passwordStdin?: boolean }, cmd: Command) => {
      const c = await client(cmd);
      const { password, generated } = await newPassword(o.passwordStdin === true);
      await c.call('PUT', `/_vouch/users/${enc(name)}/password`, { password });
      out(`Changed the password of ${name}\n`);
      if (generated) out(`Password: ${password}\n`);
    },
  );
  withUserOption(user.command('remove <name>').description('remove a user, their grants and saved logins')).action(async (name: string, _o: unknown, cmd: Command) => {
    await (await client(cmd)).call('DELETE', `/_vouch/users/${enc(name)}`);
    out(`Removed user ${name}\n`);
  });
  withUserOption(user.command('grant <name> <namespace>').description('give a user pull, push and delete below a namespace')).action(async (name: string, ns: string, _o: unknown, cmd: Command) => {
    await (await client(cmd)).call('PUT', `/_vouch/users/${enc(name)}/grants/${nsPath(ns)}`);
    out(`Granted ${ns} to ${name}\n`);
  });
  withUserOption(user.command('revoke <name> <namespace>').description('take a namespace away from a user')).action(async (name: string, ns: string, _o: unknown, cmd: Command) => {
    await (await client(cmd)).call('DELETE', `/_vouch/users/${enc(name)}/grants/${nsPath(ns)}`);
    out(`Revoked ${ns} from ${name}\n`);
  });
}
