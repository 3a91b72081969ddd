/**
 * The notary commands as data (spec §11): names, usage, descriptions and flags exactly as the
 * notary 0.7 CLI declares them (usage.test.ts compares the texts with the real binary), plus
 * vouch's `--output json` on table commands and `trust pin`. The command bodies live in the
 * cmd-*.ts modules and are loaded only when a command runs, so registering the commands on the
 * `vouch` program costs nothing to `vouch server` and the other non-notary commands.
 */
import type { Invocation } from './command.ts';
import type { CommandSpec, FlagSpec } from './usage.ts';

const MODULES = {
  stage: () => import('./cmd-stage.ts'),
  read: () => import('./cmd-read.ts'),
  key: () => import('./cmd-key.ts'),
  delegation: () => import('./cmd-delegation.ts'),
  pin: () => import('./cmd-trust-pin.ts'),
} as const;

type Modules = typeof MODULES;
type Runner = (inv: Invocation) => Promise<void>;

/** A command body from module `mod`, loaded when the command runs. */
function lazy<M extends keyof Modules>(mod: M, name: keyof Awaited<ReturnType<Modules[M]>>): Runner {
  return async (inv) => {
    const loaded = (await MODULES[mod]()) as unknown as Record<string, Runner>;
    const run = loaded[name as string];
    if (run === undefined) throw new TypeError(`no command body ${String(name)} in ${mod}`);
    await run(inv);
  };
}

export const AUTO_PUBLISH_HELP = 'Automatically attempt to publish after staging the change. Will also publish existing staged changes.';
export const PUBLISH_FLAG: FlagSpec = { name: 'publish', short: 'p', kind: 'bool', help: AUTO_PUBLISH_HELP };
/** vouch's addition to notary's table commands. */
export const OUTPUT_FLAG: FlagSpec = { name: 'output', kind: 'string', help: 'Output format: "table" (as notary prints it) or "json"' };

const ROLES_FLAG = (help: string): FlagSpec => ({ name: 'roles', short: 'r', kind: 'strings', help });
const CUSTOM_FLAG: FlagSpec = { name: 'custom', kind: 'string', help: 'Path to the file containing custom data for this target' };
const OFFLINE_NOTE = 'This is an offline operation.  Please then use `publish` to push the changes to the remote trusted collection.';

export const STAGE_COMMANDS: readonly CommandSpec[] = [
  {
    use: 'init [ GUN ]',
    short: 'Initializes a local trusted collection.',
    long: 'Initializes a local trusted collection identified by the Globally Unique Name. This is an online operation.',
    flags: [
      { name: 'rootkey', kind: 'string', help: 'Root key to initialize the repository with' },
      { name: 'rootcert', kind: 'string', help: 'Root certificate must match root key if a root key is supplied, otherwise it must match a key present in keystore' },
      PUBLISH_FLAG,
    ],
    run: lazy('stage', 'tufInit'),
  },
  {
    use: 'add [ GUN ] <target> <file>',
    short: 'Adds the file as a target to the trusted collection.',
    long: `Adds the file as a target to the local trusted collection identified by the Globally Unique Name. ${OFFLINE_NOTE}`,
    flags: [ROLES_FLAG('Delegation roles to add this target to'), PUBLISH_FLAG, CUSTOM_FLAG],
    run: lazy('stage', 'tufAdd'),
  },
  {
    use: 'addhash [ GUN ] <target> <byte size> <hashes>',
    short: 'Adds the byte size and hash(es) as a target to the trusted collection.',
    long: `Adds the specified byte size and hash(es) as a target to the local trusted collection identified by the Globally Unique Name. ${OFFLINE_NOTE}`,
    flags: [
      ROLES_FLAG('Delegation roles to add this target to'),
      { name: 'sha256', kind: 'string', help: 'hex encoded sha256 of the target to add' },
      { name: 'sha512', kind: 'string', help: 'hex encoded sha512 of the target to add' },
      PUBLISH_FLAG,
      CUSTOM_FLAG,
    ],
    run: lazy('stage', 'tufAddHash'),
  },
  {
    use: 'remove [ GUN ] <target>',
    short: 'Removes a target from a trusted collection.',
    long: `Removes a target from the local trusted collection identified by the Globally Unique Name. ${OFFLINE_NOTE}`,
    flags: [ROLES_FLAG('Delegation roles to remove this target from'), PUBLISH_FLAG],
    run: lazy('stage', 'tufRemove'),
  },
  {
    use: 'publish [ GUN ]',
    short: 'Publishes the local trusted collection.',
    long: 'Publishes the local trusted collection identified by the Globally Unique Name, sending the local changes to a remote trusted server.',
    run: lazy('stage', 'tufPublish'),
  },
  {
    use: 'status [ GUN ]',
    short: 'Displays status of unpublished changes to the local trusted collection.',
    long: 'Displays status of unpublished changes to the local trusted collection identified by the Globally Unique Name.',
    flags: [OUTPUT_FLAG],
    run: lazy('stage', 'tufStatus'),
  },
  {
    use: 'reset [ GUN ]',
    short: 'Resets unpublished changes for the local trusted collection.',
    long: 'Resets unpublished changes for the local trusted collection identified by the Globally Unique Name.',
    flags: [
      { name: 'number', short: 'n', kind: 'ints', help: 'Numbers of specific changes to exclusively reset, as shown in status list' },
      { name: 'all', kind: 'bool', help: 'Reset all changes shown in the status list' },
    ],
    run: lazy('stage', 'tufReset'),
  },
  {
    use: 'witness [ GUN ] <role> ...',
    short: "Marks roles to be re-signed the next time they're published",
    long: "Marks roles to be re-signed the next time they're published. Currently will always bump version and expiry for role. N.B. behaviour may change when thresholding is introduced.",
    flags: [PUBLISH_FLAG],
    run: lazy('stage', 'tufWitness'),
  },
  {
    use: 'delete [ GUN ]',
    short: 'Deletes all content for a trusted collection',
    long: 'Deletes all local content for a trusted collection identified by the Globally Unique Name. Remote data can also be deleted with an additional flag.',
    flags: [{ name: 'remote', kind: 'bool', help: 'Delete remote data for GUN in addition to local cache' }],
    run: lazy('stage', 'tufDelete'),
  },
];

export const READ_COMMANDS: readonly CommandSpec[] = [
  {
    use: 'list [ GUN ]',
    short: 'Lists targets for a remote trusted collection.',
    long: 'Lists all targets for a remote trusted collection identified by the Globally Unique Name. This is an online operation.',
    flags: [{ name: 'roles', short: 'r', kind: 'strings', help: 'Delegation roles to list targets for (will shadow targets role)' }, OUTPUT_FLAG],
    run: lazy('read', 'tufList'),
  },
  {
    use: 'lookup [ GUN ] <target>',
    short: 'Looks up a specific target in a remote trusted collection.',
    long: 'Looks up a specific target in a remote trusted collection identified by the Globally Unique Name.',
    run: lazy('read', 'tufLookup'),
  },
  {
    use: 'verify [ GUN ] <target>',
    short: 'Verifies if the content is included in the remote trusted collection',
    long: 'Verifies if the data passed in STDIN is included in the remote trusted collection identified by the Globally Unique Name.',
    flags: [
      { name: 'input', short: 'i', kind: 'string', help: 'Read from a file, instead of STDIN' },
      { name: 'output', short: 'o', kind: 'string', help: 'Write to a file, instead of STDOUT' },
      { name: 'quiet', short: 'q', kind: 'bool', help: 'No output except for errors' },
    ],
    run: lazy('read', 'tufVerify'),
  },
];

export const KEY_COMMAND: CommandSpec = {
  use: 'key',
  short: 'Operates on keys.',
  long: 'Operations on private keys.',
  subcommands: [
    { use: 'list', short: 'Lists keys.', long: 'Lists all keys known to notary.', flags: [OUTPUT_FLAG], run: lazy('key', 'keysList') },
    {
      use: 'generate [ algorithm ]',
      short: 'Generates a new key with a given algorithm.',
      long:
        'Generates a new key with a given algorithm. If a `--output` file name is provided, two files will be written, <output>.pem and <output>-key.pem, ' +
        "containing the public and private keys respectively (the key will not be stored in the key storage). If no `--role` is provided, \"root\" will be assumed.",
      flags: [
        { name: 'output', short: 'o', kind: 'string', help: 'Filepath to write export output to' },
        { name: 'role', short: 'r', kind: 'string', help: 'Role to generate key with, defaulting to "root".', default: 'root' },
      ],
      run: lazy('key', 'keysGenerate'),
    },
    {
      use: 'remove [ keyID ]',
      short: 'Removes the key with the given keyID.',
      long: 'Removes the key with the given keyID.  If the key is stored in more than one location, you will be asked which one to remove.',
      run: lazy('key', 'keyRemove'),
    },
    {
      use: 'passwd [ keyID ]',
      short: 'Changes the passphrase for the key with the given keyID.',
      long: 'Changes the passphrase for the key with the given keyID.  Will require validation of the old passphrase.',
      run: lazy('key', 'keyPassphraseChange'),
    },
    {
      use: 'rotate [ GUN ] [ key role ]',
      short: 'Rotate a signing (non-root) key of the given type for the given Globally Unique Name and role.',
      long:
        'Generates a new key for the given Globally Unique Name and role (one of "snapshot", "targets", "root", or "timestamp").  If rotating to a server-managed key, ' +
        'a new key is requested from the server rather than generated.  If the generation or key request is successful, the key rotation is immediately published.  ' +
        'No other changes, even if they are staged, will be published.',
      flags: [
        {
          name: 'server-managed',
          short: 'r',
          kind: 'bool',
          help: 'Signing and key management will be handled by the remote server (no key will be generated or stored locally). Required for timestamp role, optional for snapshot role',
        },
        { name: 'legacy', short: 'l', kind: 'int', help: "Number of old version's root roles to sign with to support old clients" },
        { name: 'key', short: 'k', kind: 'strings', help: 'New key(s) to rotate to. If not specified, one will be generated.' },
      ],
      run: lazy('key', 'keysRotate'),
    },
    {
      use: 'import pemfile [ pemfile ... ]',
      short: 'Imports all keys from all provided .pem files',
      long: 'Imports all keys from all provided .pem files by reading each PEM block from the file and writing that block to a unique object in the local keystore.',
      flags: [
        { name: 'role', short: 'r', kind: 'string', help: 'Role to import key with, if a role is not already given in a PEM header' },
        { name: 'gun', short: 'g', kind: 'string', help: 'Gun to import key with, if a gun is not already given in a PEM header' },
      ],
      run: lazy('key', 'keysImport'),
    },
    {
      use: 'export',
      short: 'Exports all keys from all local keystores. Can be filtered using the --key and --gun flags.',
      long: 'Exports all keys from all local keystores. Which keys are exported can be restricted by using the --key or --gun flags. By default the result is sent to stdout, it can be directed to a file with the -o flag.',
      flags: [
        { name: 'gun', kind: 'strings', help: 'GUNs for which to export keys' },
        { name: 'key', kind: 'strings', help: 'Key IDs to export' },
        { name: 'output', short: 'o', kind: 'string', help: 'Filepath to write export output to' },
      ],
      run: lazy('key', 'keysExport'),
    },
  ],
};

const PATHS_HELP = (verb: string): string => `List of paths to ${verb}`;

export const DELEGATION_COMMAND: CommandSpec = {
  use: 'delegation',
  short: 'Operates on delegations.',
  long: 'Operations on TUF delegations.',
  subcommands: [
    {
      use: 'list [ GUN ]',
      short: 'Lists delegations for the Global Unique Name.',
      long: 'Lists all delegations known to notary for a specific Global Unique Name.',
      flags: [OUTPUT_FLAG],
      run: lazy('delegation', 'delegationsList'),
    },
    {
      use: 'purge [ GUN ]',
      short: 'Remove KeyID(s) from all delegation roles in the given GUN.',
      long: 'Remove KeyID(s) from all delegation roles in the given GUN, for which the signing keys are available. Warnings will be printed for delegations that cannot be updated.',
      flags: [{ name: 'key', kind: 'strings', help: 'Delegation key IDs to be removed from the GUN' }, PUBLISH_FLAG],
      run: lazy('delegation', 'delegationPurgeKeys'),
    },
    {
      use: 'remove [ GUN ] [ Role ] <KeyID 1> ...',
      short: 'Remove KeyID(s) from the specified Role delegation.',
      long: 'Remove KeyID(s) from the specified Role delegation in a specific Global Unique Name.',
      flags: [
        { name: 'paths', kind: 'strings', help: PATHS_HELP('remove') },
        { name: 'yes', short: 'y', kind: 'bool', help: 'Answer yes to the removal question (no confirmation)' },
        { name: 'all-paths', kind: 'bool', help: 'Remove all paths from this delegation' },
        PUBLISH_FLAG,
      ],
      run: lazy('delegation', 'delegationRemove'),
    },
    {
      use: 'add [ GUN ] [ Role ] <X509 file path 1> ...',
      short: 'Add a keys to delegation using the provided public key X509 certificates.',
      long: 'Add a keys to delegation using the provided public key PEM encoded X509 certificates in a specific Global Unique Name.',
      flags: [
        { name: 'paths', kind: 'strings', help: PATHS_HELP('add') },
        { name: 'all-paths', kind: 'bool', help: 'Add all paths to this delegation' },
        PUBLISH_FLAG,
      ],
      run: lazy('delegation', 'delegationAdd'),
    },
  ],
};

export const TRUST_PIN_COMMAND: CommandSpec = {
  use: 'pin GUN KEYID',
  short: 'Pin the root key of a GUN in the client config, so a first contact accepts no other root.',
  long:
    'Adds KEYID (a TUF root key ID, as printed on first contact) to trust_pinning.certs[GUN] in the config file (-c, default ~/.notary/config.json), ' +
    'creating the file if needed. A later first contact with GUN (a fresh trust dir, a new machine) then refuses any root not signed by a pinned key.',
  run: lazy('pin', 'trustPin'),
};
