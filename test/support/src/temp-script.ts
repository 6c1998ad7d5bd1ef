/**
 * A stand-in program for a test: a shell script written to a temporary
 * directory, executable, removed when the test is done with it.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `body` with the path of an executable script holding `text` (its `#!` line included), then removes it. */
export async function withScript<T>(text: string, body: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'script-'));
  try {
    const path = join(dir, 'script');
    await writeFile(path, text);
    await chmod(path, 0o755);
    return await body(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
