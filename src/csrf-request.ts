/**
 * Whether a browser says `request` comes from another site: `Sec-Fetch-Site: cross-site` does, whatever its Origin;
 * so does an `Origin` (`null` included) that is neither the origin of the request URL nor in `trustedOrigins`. A
 * request with neither header (not sent by a browser) is not cross-origin.
 */
export function isCrossOrigin(request: Request, trustedOrigins: ReadonlySet<string>): boolean {
  const { headers } = request
  if (headers.get('sec-fetch-site') === 'cross-site') return true
  const origin = headers.get('origin')
  return origin !== null && !trustedOrigins.has(origin) && !isOriginOf(origin, request.url)
}

/** Whether `origin` is exactly the scheme, host and port of the absolute URL `url`, compared without parsing either. */
function isOriginOf(origin: string, url: string): boolean {
  const schemeEnd = url.indexOf('//')
  if (schemeEnd === -1) return false
  let originEnd = url.indexOf('/', schemeEnd + 2)
  if (originEnd === -1) originEnd = url.length
  return origin.length === originEnd && url.startsWith(origin)
}

/**
 * The token a request carries in its body under `name`: a field of a urlencoded or multipart form, or of a JSON
 * object; `undefined` when there is none. When Elysia has read the request's stream, `parsedField` is the field of
 * the body it parsed (see `bodyField`); otherwise a clone is read, so the handler can still read the request itself.
 */
export function tokenInBody(request: Request, parsedField: unknown, name: string): unknown {
  if (request.bodyUsed) return parsedField
  if (request.body === null) return undefined
  const type = mediaTypeOf(request.headers.get('content-type'))
  if (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') {
    return formField(request.clone(), name)
  }
  if (type === 'application/json' || type.endsWith('+json')) return jsonField(request.clone(), name)
  return undefined
}

/** Bun's `clone()` is typed with the fetch types of undici, not Bun's own `Request`. */
type ClonedRequest = ReturnType<Request['clone']>

async function formField(request: ClonedRequest, name: string): Promise<unknown> {
  try {
    return (await request.formData()).get(name) ?? undefined
  } catch {
    return undefined
  }
}

async function jsonField(request: ClonedRequest, name: string): Promise<unknown> {
  try {
    return bodyField(await request.json(), name)
  } catch {
    return undefined
  }
}

/** The field `name` of a body Elysia parsed (an object, or FormData), or `undefined`. */
export function bodyField(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  if (body instanceof FormData) return body.get(name) ?? undefined
  return Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined
}

function mediaTypeOf(contentType: string | null): string {
  if (contentType === null) return ''
  const end = contentType.indexOf(';')
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase()
}
