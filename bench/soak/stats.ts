/** The five kinds of request the soak mixes, each on its own route of server.ts. */
export const REQUEST_KINDS = ['new', 'read', 'write', 'destroy', 'regenerate'] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]

/** What the soak server's `/soak/stats` answers: its heap, its store, and counters since it started. */
export interface SoakStats {
  /** The JS heap in bytes as JavaScriptCore found it: live objects and garbage not yet collected. */
  readonly heapBytes: number
  /** The JS heap and its objects after a full collection: live objects only. */
  readonly liveHeapBytes: number
  readonly liveHeapObjects: number
  /** Live objects by type after the full collection, to tell what grew when the heap grows. */
  readonly liveHeapTypes: Record<string, number>
  /** Live sessions, from `sessions.count()`. */
  readonly sessions: number
  readonly gcSweeps: number
  /** Expired sessions the sweeps removed. */
  readonly gcRemoved: number
  /** Requests served, by kind. */
  readonly served: Record<RequestKind, number>
}

export function zeroKinds(): Record<RequestKind, number> {
  return { new: 0, read: 0, write: 0, destroy: 0, regenerate: 0 }
}
