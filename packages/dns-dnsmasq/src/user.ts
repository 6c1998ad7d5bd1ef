/**
 * The user dnsmasq runs as. It drops root for `nobody` by default, and
 * then re-reads a changed hosts file as nobody: if nobody cannot reach the
 * file, the reload fails and the network loses every name ("failed to load
 * names ... Permission denied"). The daemon's state directory is usually
 * 0700, and the helper VM has no `nobody` at all (dnsmasq then exits with
 * "unknown user or group"). So dnsmasq runs as nobody only when that user
 * exists and every directory down to the hosts directories lets others
 * through; otherwise as root, and the reason is logged. Making the state
 * directory searchable by others (o+x) is enough to run unprivileged.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DnsmasqUser } from './render.js';

/** The user, and why when it is root. */
export interface UserChoice {
  readonly user: DnsmasqUser;
  readonly reason?: string;
}

const OTHERS_SEARCH = 0o001;

/** Whether `passwd` (the text of /etc/passwd) has a `nobody` entry. */
export function hasNobody(passwd: string): boolean {
  return passwd.split('\n').some((line) => line.startsWith('nobody:'));
}

/** The first directory from `dir` up to / that others cannot pass through, if any. */
async function closedAncestor(dir: string): Promise<string | undefined> {
  for (let current = dir; ; current = dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & OTHERS_SEARCH) === 0) return current;
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Chooses the user for resolvers whose hosts directories are under `root`
 * (which must exist and is created searchable by others).
 */
export async function chooseUser(root: string, passwdFile = '/etc/passwd'): Promise<UserChoice> {
  const passwd = await readFile(passwdFile, 'utf8').catch(() => '');
  if (!hasNobody(passwd)) return { user: 'root', reason: `${passwdFile} has no user nobody` };
  const closed = await closedAncestor(root);
  if (closed !== undefined) return { user: 'root', reason: `user nobody cannot search ${closed}, so it could not re-read the hosts files` };
  return { user: 'nobody' };
}
