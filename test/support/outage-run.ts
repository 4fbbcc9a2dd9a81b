import { Elysia } from 'elysia'
import { type SessionEngine, session } from 'elysia-sessions'
import { cookiePairOf, type Handler, SECRET, SILENT_LOGGER, send } from './http.js'
import { startOpenLoopLoad } from './open-loop-load.js'
import { type OutageFigures, outageFigures } from './outage-figures.js'

/** How an outage run is paced; times in ms. */
export interface OutagePace {
  /** A request is started every `interval` ms. */
  readonly interval: number
  /** How long the load runs before the path breaks. */
  readonly before: number
  /** How long the path stays broken. */
  readonly outage: number
}

/** What breaks the path to the server and heals it again. */
export interface OutageKind {
  /** Breaks the path to the server. */
  break(): Promise<void> | void
  /** Heals it, and resolves to the `performance.now()` time from which the server counts as back. */
  heal(): Promise<number>
}

/** What one outage run saw. */
export interface OutageRun {
  readonly figures: OutageFigures
  /** Answers that were neither right nor the generic 503: a read of another session, a 500, an engine's message. */
  readonly wrongAnswers: readonly string[]
  /** Requests still unanswered a while after the load stopped. */
  readonly leftPending: number
  /** Writes this run acknowledged. */
  readonly acknowledged: number
  /** Of those, the ones acknowledged while the path was broken (each must be in the store all the same). */
  readonly acknowledgedWhileBroken: number
}

/** What reading every session back found, over every run so far. */
export interface ReadBack {
  readonly acknowledged: number
  /** Acknowledged writes not in the store. */
  readonly lost: number
  /** Sessions whose cookie no longer loads the session created before the runs. */
  readonly loggedOut: number
  /** Writes answered 503 that are in the store all the same (a commit that landed as it timed out). */
  readonly failedButStored: number
}

/** How long after the server is back the load runs at least, and how long it must have seen only successes. */
const STEADY_WINDOW = 600
/** How long after the server is back the load stops at the latest, recovered or not. */
const LONGEST_RECOVERY = 3_000
/** How long requests in flight get to answer once the load stopped. */
const DRAIN_LIMIT = 3_000

/**
 * Sessions created on `engine` through an app, then driven by an open-loop load of reads and writes while an outage
 * comes and goes; every acknowledged write is remembered, to be read back.
 */
export class SessionsUnderLoad {
  readonly app: Handler
  readonly #cookies: string[] = []
  /** The session each write went to, by its request's `seq`, and whether it was acknowledged. */
  readonly #writes = new Map<number, { session: number; acknowledged: boolean }>()
  #nextSeq = 0

  constructor(engine: SessionEngine) {
    this.app = new Elysia()
      .use(session({ secret: SECRET, engine, logger: SILENT_LOGGER, gcInterval: 0 }))
      .get('/login/:user', ({ session, params }) => {
        session.string('user', params.user)
        return 'ok'
      })
      .get('/read', ({ session }) => session.stringOrNull('user') ?? 'nobody')
      .post('/write/:seq', ({ session, params }) => {
        session.int(`w${params.seq}`, Number(params.seq))
        return 'ok'
      })
      .get('/dump', ({ session }) => ({ user: session.stringOrNull('user'), ints: session.ints }))
  }

  /** Creates `count` sessions, each with its own user, and keeps their cookies. */
  async login(count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      const response = await send(this.app, `/login/user-${index}`)
      const cookie = cookiePairOf(response)
      if (response.status !== 200 || !cookie) throw new Error(`login ${index} answered ${response.status}`)
      this.#cookies.push(cookie)
    }
  }

  /**
   * Runs the load at `pace`: `before` ms, then `kind` breaks the path for `outage` ms and heals it, then the load goes
   * on until it has seen only successes for a while (or for a few seconds at most), and stops.
   */
  async run(pace: OutagePace, kind: OutageKind): Promise<OutageRun> {
    const firstSeq = this.#nextSeq
    const wrongAnswers: string[] = []
    const load = startOpenLoopLoad(pace.interval, (offset) => this.#send(firstSeq + offset))
    await Bun.sleep(pace.before)
    const brokenAt = performance.now()
    await kind.break()
    await Bun.sleep(pace.outage - (performance.now() - brokenAt))
    const backAt = await kind.heal()
    for (;;) {
      await Bun.sleep(50)
      const now = performance.now()
      let lastFailure = backAt
      for (const request of load.requests) {
        if (request.startedAt >= backAt && request.answeredAt !== undefined && request.status !== 200) {
          lastFailure = Math.max(lastFailure, request.startedAt)
        }
      }
      if (now - lastFailure >= STEADY_WINDOW || now - backAt >= LONGEST_RECOVERY) break
    }
    const leftPending = await load.stop(DRAIN_LIMIT)
    this.#nextSeq = firstSeq + load.requests.length

    let acknowledged = 0
    let acknowledgedWhileBroken = 0
    for (const request of load.requests) {
      const seq = firstSeq + request.seq
      const write = this.#writes.get(seq)
      const expected = write ? 'ok' : `user-${this.#sessionOf(seq)}`
      if (request.status === 200 && request.body === expected) {
        if (write) {
          write.acknowledged = true
          acknowledged++
          const answeredAt = request.answeredAt as number
          if (answeredAt >= brokenAt && answeredAt < backAt) acknowledgedWhileBroken++
        }
      } else if (request.status !== 503 || !request.body.startsWith('Session engine failed to ')) {
        wrongAnswers.push(`request ${seq}: ${request.status} ${request.body.slice(0, 200)}`)
      }
    }
    const figures = outageFigures(load.requests, { brokenAt, backAt })
    return { figures, wrongAnswers, leftPending, acknowledged, acknowledgedWhileBroken }
  }

  /** Reads every session back through the app with its first cookie, and checks every write against the store. */
  async readBack(): Promise<ReadBack> {
    const stored = await Promise.all(
      this.#cookies.map(async (cookie) => {
        const response = await send(this.app, '/dump', { cookie })
        if (response.status !== 200) return undefined
        return (await response.json()) as { user: string | null; ints: Record<string, number> }
      }),
    )
    let loggedOut = 0
    stored.forEach((session, index) => {
      if (session?.user !== `user-${index}`) loggedOut++
    })
    let acknowledged = 0
    let lost = 0
    let failedButStored = 0
    for (const [seq, write] of this.#writes) {
      const found = stored[write.session]?.ints[`w${seq}`] === seq
      if (write.acknowledged) {
        acknowledged++
        if (!found) lost++
      } else if (found) failedButStored++
    }
    return { acknowledged, lost, loggedOut, failedButStored }
  }

  /** Even requests read a session, odd ones write a key of their own to it. */
  #send(seq: number): Promise<Response> {
    const session = this.#sessionOf(seq)
    const cookie = this.#cookies[session]
    if (seq % 2 === 0) return send(this.app, '/read', { cookie })
    this.#writes.set(seq, { session, acknowledged: false })
    return send(this.app, `/write/${seq}`, { method: 'POST', cookie })
  }

  /** Spreads the requests over the sessions: a read and a write to each in turn. */
  #sessionOf(seq: number): number {
    return Math.floor(seq / 2) % this.#cookies.length
  }
}
