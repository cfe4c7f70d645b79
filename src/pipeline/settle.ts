// What one bulk's answer means for the slots it carried, as pure functions (no I/O, table-tested):
// which records are done (indexed, or superseded by a newer version), which are rejected for good (the
// errors policy takes them), which go again (after a backoff when the engine pushed back or the
// cluster refused), and what a 413 for the whole request means. The worker performs what they decide.
import type { Failure } from '../dead-letter/failure.js';
import type { ItemOutcome } from '../sink/bulk-response.js';
import type { PreparedRecord, Slot, WritableRecord } from './batch.js';

/** A slot still to send; `retry` when it failed retriably and waits for a backoff first. */
export type OpenSlot = Slot & { retry?: boolean };

export interface Settlement {
  /** Written (acked): done. */
  indexed: PreparedRecord[];
  /** A newer version is in the index (external versioning): done, nothing to write. */
  superseded: PreparedRecord[];
  /** Refused for good, with why: the errors policy (dead letter, fail, skip) takes them. */
  rejected: { prepared: WritableRecord; failure: Failure }[];
  /** To send again: `retry` after a backoff; without it at once (a slot's next candidate). */
  next: OpenSlot[];
  /** Items the engine pushed back (429, 5xx) or the cluster refused (systemic). */
  retrying: number;
  /** The first systemic refusal ("403 security_exception: ..."), when there was one. */
  systemic?: string | undefined;
  /** Indices the engine said are missing (deleted while running): create them before the retry. */
  missingIndices?: Set<string> | undefined;
}

/** Applies one bulk response (one outcome per slot, in order) to its slots. */
export function settle(slots: readonly OpenSlot[], outcomes: readonly ItemOutcome[]): Settlement {
  const s: Settlement = { indexed: [], superseded: [], rejected: [], next: [], retrying: 0 };
  outcomes.forEach((outcome, i) => {
    const slot = slots[i]!;
    switch (outcome.kind) {
      case 'acked':
      case 'superseded': {
        // A sequential slot (partial updates) settles its head only; the next candidate goes next.
        const settled = slot.sequential ? slot.candidates.slice(0, 1) : slot.candidates;
        (outcome.kind === 'acked' ? s.indexed : s.superseded).push(...settled);
        if (slot.sequential && slot.candidates.length > 1) s.next.push({ candidates: slot.candidates.slice(1), sequential: true });
        break;
      }
      case 'systemic':
        s.systemic ??= `${outcome.status} ${outcome.errorType}: ${outcome.reason}`;
        if (outcome.errorType === 'index_not_found_exception') (s.missingIndices ??= new Set()).add(slot.candidates[0]!.op.index);
        s.next.push({ ...slot, retry: true });
        s.retrying++;
        break;
      case 'retriable':
        s.next.push({ ...slot, retry: true });
        s.retrying++;
        break;
      case 'rejected': {
        // The version the engine refused is rejected; the next one in the slot (an older version, or
        // for `create` a later one) is sent instead, so no record is acknowledged unwritten.
        const [head, ...rest] = slot.candidates;
        s.rejected.push({ prepared: head!, failure: { errorClass: 'rejected', errorType: outcome.errorType, reason: `${outcome.status} ${outcome.errorType}: ${outcome.reason}` } });
        if (rest.length > 0) s.next.push({ candidates: rest, sequential: slot.sequential });
        break;
      }
    }
  });
  return s;
}

/**
 * The engine answered 413 (request too large) for these slots: several go in two halves, each on its
 * own; one slot's head document is too large whatever it travels with: it is rejected (class
 * oversize) and the slot's next candidate (an older version may fit) goes instead.
 */
export function tooLarge(slots: readonly OpenSlot[], reason: string): { halves: [OpenSlot[], OpenSlot[]] } | { rejected: { prepared: WritableRecord; failure: Failure }; rest: OpenSlot[] } {
  if (slots.length > 1) {
    const half = Math.ceil(slots.length / 2);
    return { halves: [slots.slice(0, half), slots.slice(half)] };
  }
  const [head, ...rest] = slots[0]!.candidates;
  return {
    rejected: { prepared: head!, failure: { errorClass: 'oversize', errorType: 'request_entity_too_large', reason: reason.slice(0, 500) } },
    rest: rest.length > 0 ? [{ candidates: rest, sequential: slots[0]!.sequential }] : [],
  };
}
