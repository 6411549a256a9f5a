import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'

/** A frame as it arrived, with the performance.now() of its arrival. */
export interface TimedFrame {
  at: number
  frame: { op: number; d?: unknown; t?: string; s?: number }
}

/** A real WebSocket client logged in to a Mesa server, which timestamps its login and every frame. */
export interface TimedClient {
  /** performance.now() when op 2 (the login) was sent. */
  readonly loginSentAt: number
  /** performance.now() when op 22 (the auth ack) arrived. */
  readonly ackAt: number
  /** Resolves with the next op 0 frame (a message), or the one already waiting. */
  nextMessage(timeoutMs?: number): Promise<TimedFrame>
  close(): Promise<void>
}

/**
 * Connects and logs in with `token` as its id, Mesa's op 10 → op 2 → op 22 handshake, timestamping each step.
 * test/support/mesa-client.ts does the same but does not expose when op 2 went out, which case 5 measures from.
 */
export function loginTimed(url: string, token: string): Promise<TimedClient> {
  const socket = new WebSocket(url)
  const waiting: TimedFrame[] = []
  const listeners: Array<(frame: TimedFrame) => void> = []
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  let loginSentAt = 0
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.on('message', (data) => {
      const at = performance.now()
      const frame = JSON.parse(String(data)) as TimedFrame['frame']
      if (frame.op === 10) {
        loginSentAt = performance.now()
        socket.send(JSON.stringify({ op: 2, d: { token } }))
      } else if (frame.op === 22) {
        resolve({
          loginSentAt,
          ackAt: at,
          nextMessage: (timeoutMs = 5000) =>
            waiting.length > 0
              ? Promise.resolve(waiting.shift()!)
              : new Promise((resolveFrame, rejectFrame) => {
                  const timer = setTimeout(() => rejectFrame(new Error(`no message for ${token} within ${timeoutMs} ms`)), timeoutMs)
                  listeners.push((each) => {
                    clearTimeout(timer)
                    resolveFrame(each)
                  })
                }),
          close: async () => {
            if (socket.readyState !== WebSocket.CLOSED) socket.close(1000)
            await closed
          },
        })
      } else if (frame.op === 0) {
        // Heartbeats and other ops are not messages; only op 0 frames are what a dispatch delivers.
        const listener = listeners.shift()
        if (listener) listener({ at, frame })
        else waiting.push({ at, frame })
      }
    })
    // Redelivered frames may arrive in the same read as op 22; they wait in `waiting` until asked for.
    socket.on('error', () => {})
  })
}
