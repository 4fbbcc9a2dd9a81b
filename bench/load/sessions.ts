/** A route's answer: its status, body and the `name=value` of the first cookie it set. */
interface Answer {
  readonly status: number
  readonly body: string
  readonly cookie: string | undefined
}

async function get(url: string, cookie?: string): Promise<Answer> {
  const response = await fetch(url, { headers: cookie ? { cookie } : {} })
  const body = await response.text()
  return { status: response.status, body, cookie: response.headers.getSetCookie()[0]?.split(';')[0] }
}

/** Thrown when a server's routes do not behave as the scenario requires. */
export class RouteCheckError extends Error {
  override name = 'RouteCheckError'
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new RouteCheckError(message)
}

/**
 * Creates `count` sessions through `/a` without a cookie, checking that each answers 1 and sets a cookie, and returns
 * their Cookie header values. Bare Elysia sets none, so it gets cookies of the same size that it never reads.
 */
export async function createSessions(baseUrl: string, count: number, hasSessions: boolean): Promise<string[]> {
  if (!hasSessions) {
    return Array.from({ length: count }, () => {
      const id = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
      const signature = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
      return `sessid=${id}.${signature}`
    })
  }
  const cookies: string[] = []
  for (let i = 0; i < count; i++) {
    const answer = await get(`${baseUrl}/a`)
    expect(answer.status === 200 && answer.body === '1', `/a without a cookie answered ${answer.status} ${answer.body}`)
    expect(answer.cookie !== undefined, '/a without a cookie set no cookie')
    cookies.push(answer.cookie as string)
  }
  return cookies
}

/** Checks the routes before a run: `/b` without a cookie reads 0, and `/c` without one counts 1 and sets a cookie. */
export async function checkBefore(baseUrl: string, hasSessions: boolean): Promise<void> {
  const read = await get(`${baseUrl}/b`)
  expect(read.status === 200 && read.body === '0', `/b without a cookie answered ${read.status} ${read.body}`)
  const fresh = await get(`${baseUrl}/c`)
  expect(fresh.status === 200 && fresh.body === '1', `/c without a cookie answered ${fresh.status} ${fresh.body}`)
  if (hasSessions) expect(fresh.cookie !== undefined, '/c without a cookie set no cookie')
}

/**
 * The counter of the first session after a run: above 1 when the scenario wrote (a), exactly 1 when it only read (b),
 * so every row is proven to write in (a) and not to write the counter in (b). A session kept in the cookie (`inCookie`)
 * changes only in the cookie the server sends back, which wrk drops, so there (a) is proven by one more write that
 * answers 2 and sends a cookie `/b` reads as 2, and (b) by `/b` reading 1 and sending no cookie.
 */
export async function checkAfter(baseUrl: string, cookie: string, wrote: boolean, inCookie = false): Promise<string> {
  if (inCookie) return checkCookieSessionAfter(baseUrl, cookie, wrote)
  const answer = await get(`${baseUrl}/b`, cookie)
  expect(answer.status === 200, `/b answered ${answer.status} after the run`)
  const counter = Number(answer.body)
  if (wrote) expect(counter > 1, `the counter is ${answer.body} after the writing run, not above 1`)
  else expect(counter === 1, `the counter is ${answer.body} after the read-only run, not 1`)
  return `counter of session 1 after the run: ${counter}`
}

async function checkCookieSessionAfter(baseUrl: string, cookie: string, wrote: boolean): Promise<string> {
  if (!wrote) {
    const read = await get(`${baseUrl}/b`, cookie)
    expect(read.status === 200 && read.body === '1', `/b answered ${read.status} ${read.body} after the run, not 1`)
    expect(read.cookie === undefined, '/b sent a cookie after the read-only run')
    return 'session 1 read 1 after the run and /b sent no cookie'
  }
  const written = await get(`${baseUrl}/a`, cookie)
  expect(written.status === 200 && written.body === '2', `/a answered ${written.status} ${written.body}, not 2`)
  expect(written.cookie !== undefined, '/a sent no cookie for a changed session')
  const read = await get(`${baseUrl}/b`, written.cookie)
  expect(read.status === 200 && read.body === '2', `/b with the cookie /a sent answered ${read.body}, not 2`)
  return 'session 1 counted 2 after the run, in the cookie /a sent'
}
