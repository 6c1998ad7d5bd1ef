/**
 * A network's hosts directory, the --hostsdir its dnsmasq watches with
 * inotify. Each file is replaced whole by rename, so dnsmasq reads either
 * the old names of an address or the new ones, never a part; a file
 * removed takes its names with it.
 */
import { chmod, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostsTempName, type NetworkPaths } from './paths.js';
import type { HostsFile } from './render.js';

/** Readable and searchable by the user dnsmasq may drop to (see user.ts). */
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

/** Creates `dir` (and missing parents) and gives it DIR_MODE whatever the umask. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** What converging a hosts directory did. */
export interface HostsDirChange {
  /**
   * The directory was not there and was created: a dnsmasq started before
   * watches a directory that is gone and needs a restart.
   */
  readonly created: boolean;
  readonly written: number;
  readonly removed: number;
}

/**
 * One network's hosts directory and what is in it. The files' contents
 * are read once, the first time; after that the directory is listed on
 * each change, so a file removed behind our back is written again, and
 * only files whose content changes are written.
 */
export class HostsDirectory {
  readonly #paths: NetworkPaths;
  /** File name to content, as last read or written; undefined until first read. */
  #known: Map<string, string> | undefined;

  constructor(paths: NetworkPaths) {
    this.#paths = paths;
  }

  /**
   * Makes the directory hold exactly `files`: new and changed ones are
   * written before others are removed, so a name that moves to another
   * address answers throughout.
   */
  async converge(files: readonly HostsFile[]): Promise<HostsDirChange> {
    const listed = await this.#list();
    const created = listed === undefined;
    if (created) {
      await ensureDir(this.#paths.dir);
      await ensureDir(this.#paths.hostsDir);
    }
    const known = await this.#knownOf(listed ?? []);
    let written = 0;
    for (const file of files) {
      if (known.get(file.name) === file.content) continue;
      await this.#write(file);
      known.set(file.name, file.content);
      written++;
    }
    const wanted = new Set(files.map((file) => file.name));
    let removed = 0;
    for (const name of listed ?? []) {
      if (wanted.has(name)) continue;
      await this.#remove(name);
      known.delete(name);
      removed++;
    }
    return { created, written, removed };
  }

  /** The file names in the directory, or undefined when it does not exist. */
  async #list(): Promise<string[] | undefined> {
    try {
      return await readdir(this.#paths.hostsDir);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** What the listed files hold: read the first time, then kept, less what is no longer listed. */
  async #knownOf(listed: readonly string[]): Promise<Map<string, string>> {
    if (this.#known === undefined) {
      const known = new Map<string, string>();
      for (const name of listed) {
        try {
          known.set(name, await readFile(join(this.#paths.hostsDir, name), 'utf8'));
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }
      this.#known = known;
      return known;
    }
    const present = new Set(listed);
    for (const name of this.#known.keys()) if (!present.has(name)) this.#known.delete(name);
    return this.#known;
  }

  async #write(file: HostsFile): Promise<void> {
    const temp = join(this.#paths.hostsDir, hostsTempName(file.name));
    await writeFile(temp, file.content, { mode: FILE_MODE });
    await chmod(temp, FILE_MODE);
    await rename(temp, join(this.#paths.hostsDir, file.name));
  }

  async #remove(name: string): Promise<void> {
    try {
      await unlink(join(this.#paths.hostsDir, name));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
}
