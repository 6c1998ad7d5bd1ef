// An NftRunner that records what it is asked and answers as told, for the
// tests that need no root.
import type { NftResult, NftRunner } from '../src/index.js';

export interface FakeRunner {
  readonly run: NftRunner;
  readonly calls: Array<{ args: readonly string[]; input: string | undefined }>;
}

/** Answers every call with `answer(args)`, or with success and no output. */
export function fakeRunner(answer: (args: readonly string[]) => NftResult = () => ({ exitCode: 0, stdout: '', stderr: '' })): FakeRunner {
  const calls: FakeRunner['calls'] = [];
  const run: NftRunner = async (args, input) => {
    calls.push({ args, input });
    return answer(args);
  };
  return { run, calls };
}
