/**
 * Runs once, with no I/O, what Hono's Lambda adapter and the fetch app do with every event (a Request with headers
 * and a body read through a reader, a Response whose headers are walked and whose body is read as text), so that Node
 * loads and compiles that code (undici's) in the init rather than in the first event. The REST transport no longer
 * loads it on Node (src/transport/node-http.ts), so the http function's init does this itself.
 */
export async function loadFetchClasses(): Promise<void> {
  const request = new Request('http://init.invalid/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const reader = request.body!.getReader()
  while (!(await reader.read()).done) {}
  const response = new Response('{}', { headers: { 'content-type': 'application/json' } })
  response.headers.forEach(() => {})
  await response.text()
}
