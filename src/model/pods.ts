import type { Pod } from './types.js';

/** Succeeded/Failed pods hold no IP that traffic could reach, and back no Service. */
export function isTerminal(pod: Pod): boolean {
  return pod.phase === 'Succeeded' || pod.phase === 'Failed';
}
