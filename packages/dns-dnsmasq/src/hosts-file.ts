/**
 * A network's directories and its hosts file. The file is replaced whole
 * by rename, so dnsmasq (which watches the directory with inotify) reads
 * either the old names or the new ones, never a part.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { NetworkPaths } from './paths.js';

/** Readable and searchable by the user dnsmasq may drop to (see user.ts). */
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

/** Creates `dir` (and missing parents) and gives it DIR_MODE whatever the umask. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Whether `path` is a directory; false when it does not exist. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Creates the network's directory and hosts directory. */
export async function ensureNetworkDirs(paths: NetworkPaths): Promise<void> {
  await ensureDir(paths.dir);
  await ensureDir(paths.hostsDir);
}

/** The hosts file as it is on disk, or undefined when there is none. */
export async function readHostsFile(paths: NetworkPaths): Promise<string | undefined> {
  try {
    return await readFile(paths.hostsFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Replaces the hosts file: written to the dot-named temporary file, then renamed over it. */
export async function writeHostsFile(paths: NetworkPaths, content: string): Promise<void> {
  await writeFile(paths.hostsTemp, content, { mode: FILE_MODE });
  await chmod(paths.hostsTemp, FILE_MODE);
  await rename(paths.hostsTemp, paths.hostsFile);
}
