/**
 * The macro behind a route option such as `{ session: false }` or `{ csrf: false }`: `false` marks the request's
 * `set` object with `flag` in the transform phase, before any hook that reads the mark runs.
 */
export function optOutMacro(flag: symbol) {
  return (enabled: boolean) =>
    enabled
      ? {}
      : {
          transform: function markRouteOptedOut({ set }: { set: object }) {
            ;(set as Record<symbol, true>)[flag] = true
          },
        }
}
