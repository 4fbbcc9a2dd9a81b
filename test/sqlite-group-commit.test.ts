import { expect, test } from 'bun:test'
import { createGroupCommit } from '../src/engines/sqlite/group-commit.js'

test('commits asked for in one turn of the event loop are written as one group, in order', async () => {
  const groups: string[][] = []
  const grouped = createGroupCommit<string>((items) => {
    groups.push([...items])
    return items.map((item) => item !== 'refused')
  })
  const results = await Promise.all(['a', 'refused', 'c'].map((item) => grouped.commit(item)))
  expect(results).toEqual([true, false, true])
  expect(groups).toEqual([['a', 'refused', 'c']])
  expect(await grouped.commit('d')).toBe(true)
  expect(groups).toEqual([['a', 'refused', 'c'], ['d']])
})

test('when a group fails, each item is written on its own and only the failing one is rejected', async () => {
  const groups: string[][] = []
  const grouped = createGroupCommit<string>((items) => {
    groups.push([...items])
    if (items.includes('bad')) throw new Error('disk full')
    return items.map(() => true)
  })
  const settled = await Promise.allSettled(['a', 'bad', 'c'].map((item) => grouped.commit(item)))
  expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect(String((settled[1] as PromiseRejectedResult).reason)).toContain('disk full')
  expect(groups).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']])
})

test('flushNow writes the waiting group at once', async () => {
  const groups: string[][] = []
  const grouped = createGroupCommit<string>((items) => {
    groups.push([...items])
    return items.map(() => true)
  })
  const pending = grouped.commit('a')
  grouped.flushNow()
  expect(groups).toEqual([['a']])
  expect(await pending).toBe(true)
})
