/**
 * Which host ports each step publishes, kept apart so that no step meets
 * another's mappings. Every mapping goes to the container's TARGET_PORT,
 * except the range, which maps one-to-one from there onward.
 */
import { MAX_SIZE } from './options.js';
import { singlePort, type PublishedPorts } from './publisher.js';

/** What the container's server listens on. */
export const CONTAINER_PORT = 80;
/** The published port new connections are measured through. */
export const TARGET_PORT = 8080;
const PRELOAD_BASE = 20_000;
const SAMPLE_BASE = PRELOAD_BASE + MAX_SIZE;
const CONCURRENT_BASE = 40_000;
const RANGE_BASE = 50_000;

function singles(base: number, from: number, to: number): PublishedPorts[] {
  return Array.from({ length: to - from }, (_, i) => singlePort(base + from + i, CONTAINER_PORT));
}

export const target: PublishedPorts = singlePort(TARGET_PORT, CONTAINER_PORT);

/** The mappings that bring the preloaded ones from `from` to `to`. */
export function preloaded(from: number, to: number): PublishedPorts[] {
  return singles(PRELOAD_BASE, from, to);
}

/** The mappings added and removed while latency is timed. */
export function latencySamples(count: number): PublishedPorts[] {
  return singles(SAMPLE_BASE, 0, count);
}

/** The mappings concurrent clients add. */
export function concurrentAdds(count: number): PublishedPorts[] {
  return singles(CONCURRENT_BASE, 0, count);
}

/** The range published in one call. */
export function range(length: number): PublishedPorts {
  return { hostPort: RANGE_BASE, hostPortEnd: RANGE_BASE + length - 1, containerPort: CONTAINER_PORT };
}

/** Every host port of `mappings`. */
export function hostPorts(mappings: readonly PublishedPorts[]): number[] {
  return mappings.flatMap((m) => Array.from({ length: m.hostPortEnd - m.hostPort + 1 }, (_, i) => m.hostPort + i));
}

/** The container ports the server must listen on: the common target and the range's last. */
export function containerPorts(rangeLength: number): number[] {
  return [...new Set([CONTAINER_PORT, CONTAINER_PORT + rangeLength - 1])];
}
