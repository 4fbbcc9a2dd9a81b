import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { session } from 'elysia-sessions'
import { cookiePairOf, SECRET, send } from './support/http.js'

describe('the session cookie beside the app’s own cookies', () => {
  const app = new Elysia()
    .use(session({ secret: SECRET }))
    .get('/both', ({ session, cookie }) => {
      session.int('n', (session.intOrNull('n') ?? 0) + 1)
      cookie['theme']!.set({ value: 'dark', path: '/' })
      return session.int('n')
    })
    .get('/read', ({ session, cookie }) => `${session.intOrNull('n')} ${String(cookie['theme']?.value)}`)

  test('cookies the app sets through Elysia’s cookie jar are sent together with the session cookie', async () => {
    const response = await send(app, '/both')
    const cookies = response.headers.getSetCookie()
    expect(cookies).toHaveLength(2)
    expect(cookies).toContainEqual('theme=dark; Path=/')
    expect(cookiePairOf(response)).toMatch(/^sessid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/)
  })

  test('the session is found among other cookies, and the app still reads its own', async () => {
    const pair = cookiePairOf(await send(app, '/both'))!
    const response = await send(app, '/read', { cookie: `theme=light; ${pair}; lang=en` })
    expect(await response.text()).toBe('1 light')
  })
})
