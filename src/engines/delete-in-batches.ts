/**
 * Runs `deleteBatch` until a batch removes fewer than `batchSize` rows and resolves to how many were removed in all,
 * so no single statement holds its locks for long.
 */
export async function deleteInBatches(batchSize: number, deleteBatch: () => Promise<number>): Promise<number> {
  let deleted = 0
  for (;;) {
    const removed = await deleteBatch()
    deleted += removed
    if (removed < batchSize) return deleted
  }
}
