/**
 * Where the programs and the contract under test are. Each can be named by
 * an environment variable (as in the helper VM, where they are installed
 * elsewhere); otherwise they are taken from this repository's build output.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A program to start: the file to execute and the arguments that come before ours. */
export interface Program {
  readonly file: string;
  readonly args: readonly string[];
}

function locate(variable: string, repoPath: string, hint: string): string {
  const fromEnv = process.env[variable];
  // Compiled to test/integration/dist/src/: the repository root is four levels up.
  const path = fromEnv !== undefined && fromEnv !== ''
    ? resolve(fromEnv)
    : fileURLToPath(new URL(`../../../../${repoPath}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} does not exist: ${hint}, or set ${variable}`);
  return path;
}

/** A .js/.mjs/.cjs file runs with this node; anything else is an executable. */
function program(path: string): Program {
  return /\.[cm]?js$/.test(path) ? { file: process.execPath, args: [path] } : { file: path, args: [] };
}

export function routerProtoPath(): string {
  return locate('ROUTER_PROTO', 'packages/proto/proto/router/router.proto', 'router.proto is missing');
}

export function routerService(): Program {
  return program(locate('ROUTER_SERVICE_BIN', 'packages/server/dist/src/main.js', 'build packages/server'));
}

export function routerctl(): Program {
  return program(locate('ROUTERCTL_BIN', 'packages/cli/dist/src/main.js', 'build packages/cli'));
}
