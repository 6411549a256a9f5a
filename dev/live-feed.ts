/** A Server-Sent Events fan-out: every event published goes to every open stream. */
export interface LiveFeed {
  /** Sends one named event, its data as JSON, to every open stream. */
  publish(event: string, data: unknown): void
  /**
   * A `text/event-stream` response that starts with a `snapshot` event, then carries every published event
   * until `signal` aborts (the browser left) or the feed closes.
   */
  respond(signal: AbortSignal, snapshot: () => unknown): Response
  /** Ends every open stream; later ones end at once after their snapshot. */
  close(): void
}

const encoder = new TextEncoder()

function encode(event: string, data: unknown): Uint8Array {
  // JSON.stringify never emits a raw newline, so the data always fits on one `data:` line.
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}

/** Creates an empty feed; the dev console's page subscribes with `new EventSource('/__dev/events')`. */
export function createLiveFeed(): LiveFeed {
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>()
  let closed = false

  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (!streams.delete(controller)) return
    try {
      controller.close()
    } catch {
      // already cancelled by the reader
    }
  }

  return {
    publish(event, data) {
      const chunk = encode(event, data)
      for (const controller of streams) controller.enqueue(chunk)
    },
    respond(signal, snapshot) {
      let controller!: ReadableStreamDefaultController<Uint8Array>
      const body = new ReadableStream<Uint8Array>({
        start(opened) {
          controller = opened
          // `retry` makes EventSource come back within a second after the dev server restarts.
          opened.enqueue(encoder.encode('retry: 1000\n\n'))
          opened.enqueue(encode('snapshot', snapshot()))
          if (closed || signal.aborted) return opened.close()
          streams.add(opened)
          signal.addEventListener('abort', () => end(opened), { once: true })
        },
        cancel() {
          streams.delete(controller)
        },
      })
      return new Response(body, {
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' },
      })
    },
    close() {
      closed = true
      for (const controller of [...streams]) end(controller)
    },
  }
}
