/** Throws a RangeError unless `batchSize`, as `entries` got it, is a positive whole number. */
export function checkBatchSize(batchSize: number): void {
  if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`entries({ batchSize }) needs a positive integer, got ${String(batchSize)}`)
  }
}
