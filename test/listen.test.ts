import { afterAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { session } from 'elysia-sessions'
import { cookiePairOf, SECRET } from './support/http.js'

const app = new Elysia()
  .use(session({ secret: SECRET }))
  .get('/visit', ({ session }) => {
    session.int('visits', (session.intOrNull('visits') ?? 0) + 1)
    return String(session.int('visits'))
  })
  .listen({ port: 0, hostname: '127.0.0.1' })

afterAll(() => app.stop())

test('a real server on 127.0.0.1 keeps a session across fetches that carry the cookie', async () => {
  const base = `http://127.0.0.1:${app.server!.port}`
  const first = await fetch(`${base}/visit`)
  expect(await first.text()).toBe('1')
  const cookie = cookiePairOf(first)!
  const second = await fetch(`${base}/visit`, { headers: { cookie } })
  expect(await second.text()).toBe('2')
  const stranger = await fetch(`${base}/visit`)
  expect(await stranger.text()).toBe('1')
})
