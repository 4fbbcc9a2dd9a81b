/**
 * The ceiling: bare Elysia with the three benchmark routes and no session, so every other row is a ratio to this.
 * The handlers return what a session route returns for a session's first visit.
 */
import { Elysia } from 'elysia'
import { serve } from './serve.js'

const app = new Elysia()
  .get('/a', () => '1')
  .get('/b', () => '0')
  .get('/c', () => '1')

serve(app)
