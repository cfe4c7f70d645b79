// The running local stack as the tests see it (written by `npm run stack -- up`).
import { readState } from '../../scripts/stack/state.js';

export const stack = readState();
export const brokers = stack.brokers;

/** Unique names so test runs never see each other's topics, groups or indices. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
