import { describe, expect, it } from 'vitest'
import { LIMIT_ONLY } from '../src/cli/question'
import { type BacklogResult, Message } from '../src/index'
import { useBuiltCli } from './support/built-cli'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN } from './support/dispatch-endpoint'
import { CLIENT_KEY } from './support/endpoint-failure'
import { largeBacklog } from './support/large-backlog'
import { connectMesaClient } from './support/mesa-client'
import { freePort } from './support/ports'
import { GATEWAY_TOKEN, useStack } from './support/stack'
import { listenTcp } from './support/tcp-server'

// `mesa-dispatch presence`, `backlog show` and `backlog clear`, run from the built bin as `npx mesa-dispatch` runs
// it, over the endpoint and straight to Redis's REST API, against a real Mesa 1.5.8 server and its clients.
const stack = useStack()
const open = useCleanup()
const cli = useBuiltCli(stack)
const { run } = cli

const viaToken = () => ['--endpoint', cli.endpoint.url, '--token', ENDPOINT_TOKEN]
const viaRest = () => ['--rest-url', stack.gateway.url, '--rest-token', GATEWAY_TOKEN, '--namespace', cli.namespace]
const storeFor = async (id: string, ...ns: number[]) => {
  const dispatcher = stack.dispatcher({ namespace: cli.namespace, sync: { enabled: true } })
  for (const n of ns) await dispatcher.dispatch(new Message(0, { n }, 'NOTE'), [id])
}
const usageHint = 'Run mesa-dispatch --help for usage.\n'

describe.each([
  ['the endpoint', viaToken],
  ['Redis REST', viaRest],
])('mesa-dispatch questions through %s', (_, via) => {
  it('presence says who of the ids is online, keeping --numeric-ids numbers, and with no id how many are connected', async () => {
    open(await connectMesaClient(cli.mesa.url, 'amy'))
    open(await connectMesaClient(cli.mesa.url, 5))

    const [people, numbers, json, count] = await Promise.all([
      run(['presence', 'amy', 'bo', ...via()]),
      run(['presence', '5', 'amy', '--numeric-ids', ...via()]),
      run(['presence', '5', '6', '--numeric-ids', '--json', ...via()]),
      run(['presence', ...via()]),
    ])

    expect([people, numbers, json, count]).toEqual([
      { code: 0, stdout: 'online: amy\noffline: bo\n', stderr: '' },
      { code: 0, stdout: 'online: 5, amy\noffline: none\n', stderr: '' },
      { code: 0, stdout: `${JSON.stringify({ online: [5], offline: [6] })}\n`, stderr: '' },
      { code: 0, stdout: '2 connected\n', stderr: '' },
    ])
  })

  it('backlog show lists what waits, as Mesa redelivers it; backlog clear removes it, and the next login gets nothing', async () => {
    const id = `cy-${via === viaToken ? 'endpoint' : 'rest'}`
    await storeFor(id, 1, 2)
    const bytes = Buffer.byteLength('[{"op":0,"d":{"n":1},"t":"NOTE"},{"op":0,"d":{"n":2},"t":"NOTE"}]')

    const shown = await run(['backlog', 'show', id, ...via()])
    const shownJson = await run(['backlog', 'show', id, '--json', ...via()])
    const cleared = await run(['backlog', 'clear', id, 'nobody', ...via()])
    const again = await run(['backlog', 'show', id, ...via()])
    const client = open(await connectMesaClient(cli.mesa.url, id))
    await client.expectNoMoreMessages(300)

    expect([shown, shownJson, cleared, again]).toEqual([
      {
        code: 0,
        stdout: `2 messages (${bytes} bytes) wait for ${id}, as Mesa would redeliver them at its next login\n{"op":0,"d":{"n":1},"t":"NOTE"}\n{"op":0,"d":{"n":2},"t":"NOTE"}\n`,
        stderr: '',
      },
      {
        code: 0,
        stdout: `${JSON.stringify({ messages: [1, 2].map((n) => ({ op: 0, d: { n }, t: 'NOTE' })), count: 2, bytes, total: 2, cursor: null, truncated: false })}\n`,
        stderr: '',
      },
      { code: 0, stdout: `${id}: removed 2 messages (${bytes} bytes)\nnobody: nothing stored\n`, stderr: '' },
      { code: 0, stdout: `nothing waits for ${id}\n`, stderr: '' },
    ])
  })

  it('backlog show reads every page of a backlog larger than one, and --limit N shows the first N and says how many more wait', async () => {
    const id = `cy-pages-${via === viaToken ? 'endpoint' : 'rest'}`
    const backlog = largeBacklog(1_500_000)
    await stack.admin.hset(`undelivered_messages_${cli.namespace}`, id, backlog.value)
    const bytes = Buffer.byteLength(backlog.value)
    const total = backlog.messages.length

    const [whole, json, first] = await Promise.all([
      run(['backlog', 'show', id, ...via()]),
      run(['backlog', 'show', id, '--json', ...via()]),
      run(['backlog', 'show', id, '--limit', '2', ...via()]),
    ])
    const lines = (text: string) => text.split('\n').slice(1, -1)
    const read = JSON.parse(json.stdout) as BacklogResult

    expect({ code: whole.code, head: whole.stdout.split('\n')[0], lines: lines(whole.stdout).map((line) => JSON.parse(line)), stderr: whole.stderr }).toEqual({
      code: 0,
      head: `${total} messages (${bytes} bytes) wait for ${id}, as Mesa would redeliver them at its next login`,
      lines: backlog.messages,
      stderr: '',
    })
    expect({ code: json.code, read }).toEqual({ code: 0, read: { messages: backlog.messages, count: total, bytes, total, cursor: null, truncated: false } })
    expect(first).toEqual({
      code: 0,
      stdout: [
        `the first 2 of ${total} messages (${bytes} bytes) wait for ${id}, as Mesa would redeliver them at its next login`,
        ...backlog.messages.slice(0, 2).map((message) => JSON.stringify(message)),
        `… and ${total - 2} more: without --limit, every one is shown`,
        '',
      ].join('\n'),
      stderr: '',
    })
  }, 60_000)

  it('backlog clear --id removes nothing the second time, and says so in --json', async () => {
    const id = `di-${via === viaToken ? 'endpoint' : 'rest'}`
    const key = `cli-clear-${crypto.randomUUID()}`
    await storeFor(id, 1)
    const first = await run(['backlog', 'clear', id, '--id', key, '--json', ...via()])
    await storeFor(id, 2)
    const again = await run(['backlog', 'clear', id, '--id', key, ...via()])

    expect([first, again]).toEqual([
      {
        code: 0,
        stdout: `${JSON.stringify({ cleared: [{ recipient: id, messages: 1, bytes: Buffer.byteLength('[{"op":0,"d":{"n":1},"t":"NOTE"}]') }], duplicate: false })}\n`,
        stderr: '',
      },
      { code: 0, stdout: 'duplicate: this id was already applied, by an earlier call or an earlier attempt of this one, so nothing was removed\n', stderr: '' },
    ])
    expect(await stack.admin.hget(`undelivered_messages_${cli.namespace}`, id)).toBe('[{"op":0,"d":{"n":2},"t":"NOTE"}]')
  })

  it("exits 2 for '*', naming the field, as JSON with --json", async () => {
    const { code, stdout, stderr } = await run(['backlog', 'clear', 'a', '*', '--json', ...via()])
    // Through the endpoint the error also says what the call applied, in how many requests, and the key they carried.
    const sent = via === viaToken ? { status: 400, outcome: 'none', attempts: 1, idempotencyKey: CLIENT_KEY } : {}
    expect({ code, output: JSON.parse(stdout), stderr }).toEqual({
      code: 2,
      output: {
        ok: false,
        error: {
          name: 'ValidationError',
          message: "recipients[1] must name a client: '*' means every client in a dispatch, and names none",
          field: 'recipients[1]',
          ...sent,
        },
      },
      stderr: '',
    })
  })
})

describe('mesa-dispatch questions', () => {
  it('sign with --secret, and read the endpoint from the env', async () => {
    expect(await run(['presence', 'nobody'], { MESA_DISPATCH_ENDPOINT: cli.endpoint.url, DISPATCH_SIGNING_SECRET: ENDPOINT_SECRET })).toEqual({
      code: 0,
      stdout: 'online: none\noffline: nobody\n',
      stderr: '',
    })
  })

  it.each<[string, string[], string]>([
    ['a dispatch flag', ['presence', 'a', '--to', 'b'], '--to does not apply to presence, which takes the ids as arguments'],
    ['--id on presence', ['presence', 'a', '--id', 'k'], '--id does not apply to presence, which changes nothing'],
    ['backlog without an action', ['backlog'], 'backlog needs show <id> or clear <ids…>'],
    ['an unknown backlog action', ['backlog', 'drop', 'a'], 'unknown backlog action "drop"; use show or clear'],
    ['backlog show of two ids', ['backlog', 'show', 'a', 'b'], 'backlog show takes one id, e.g. backlog show alice; got 2'],
    ['backlog clear of no id', ['backlog', 'clear'], 'backlog clear needs the ids whose stored messages to remove, e.g. backlog clear alice bob'],
    ['an unknown command', ['presense', 'a'], 'unknown command "presense"; use send, disconnect, presence or backlog'],
    ['--limit on presence', ['presence', 'a', '--limit', '2'], LIMIT_ONLY],
    ['--limit on backlog clear', ['backlog', 'clear', 'a', '--limit', '2'], LIMIT_ONLY],
    ['--limit on send', ['send', '--data', '1', '--limit', '2'], LIMIT_ONLY],
    ['a --limit of 0', ['backlog', 'show', 'a', '--limit', '0'], '--limit must be a whole number of at least 1, got "0"'],
  ])('exit 2 on %s', async (_, args, message) => {
    expect(await run([...args, ...viaToken()])).toEqual({ code: 2, stdout: '', stderr: `mesa-dispatch: ${message}\n${usageHint}` })
  })

  it('exit 3 when the token is refused, and 4 when the endpoint cannot be reached', async () => {
    const down = `http://127.0.0.1:${await freePort()}`
    const [refused, unreachable] = await Promise.all([
      run(['backlog', 'show', 'a', '--endpoint', cli.endpoint.url, '--token', 'not-the-token']),
      run(['presence', '--endpoint', down, '--token', ENDPOINT_TOKEN]),
    ])
    expect([refused, unreachable]).toEqual([
      { code: 3, stdout: '', stderr: 'mesa-dispatch: the bearer token is missing or wrong (HTTP 401)\n' },
      {
        code: 4,
        stdout: '',
        stderr: `mesa-dispatch: the dispatch endpoint at ${down} refused the connection (ECONNREFUSED): nothing listens on that port (3 attempts)\n`,
      },
    ])
  })

  it('exit 4 when nothing answers within --timeout, over the endpoint and over REST', async () => {
    const silent = open(await listenTcp(() => undefined))
    const [viaEndpoint, viaRest] = await Promise.all([
      run(['presence', 'a', '--endpoint', silent.url, '--token', ENDPOINT_TOKEN, '--timeout', '300']),
      run(['backlog', 'show', 'a', '--rest-url', silent.url, '--rest-token', GATEWAY_TOKEN, '--timeout', '100']),
    ])
    expect([viaEndpoint, viaRest]).toEqual([
      // A question changes nothing, so no advice about an id follows.
      { code: 4, stdout: '', stderr: `mesa-dispatch: the dispatch endpoint at ${silent.url} did not answer within 300 ms (3 attempts)\n` },
      { code: 4, stdout: '', stderr: `mesa-dispatch: Redis REST request to ${silent.url} failed: timed out\n` },
    ])
  })

  it.each([
    ['presence', ['presence', 'a'], '/presence'],
    ['backlog show', ['backlog', 'show', 'a'], '/backlog'],
    ['backlog clear', ['backlog', 'clear', 'a'], '/backlog/clear'],
  ])('exit 1 on a 404 from %s, saying --endpoint is the base URL and which URL answered', async (_, args, path) => {
    const hint = '--endpoint is that base URL, as serverless deploy prints it (the CLI adds the route).'
    expect(await run([...args, '--endpoint', `${cli.endpoint.url}/api/`, '--token', ENDPOINT_TOKEN])).toEqual({
      code: 1,
      stdout: '',
      stderr: `mesa-dispatch: no such route: ${cli.endpoint.url}/api${path} answered 404; endpoint is the base URL of /dispatch and /health (HTTP 404)\n${hint}\n`,
    })
  })

  it('list the question commands in --help', async () => {
    const { stdout } = await run(['--help'])
    expect(stdout).toContain('  mesa-dispatch presence [ID ...] <transport>        who is online; with no id, how many are connected\n')
    expect(stdout).toContain('  mesa-dispatch backlog show ID [--limit N] <transport>  what waits for ID, as Mesa would redeliver it (every page)\n')
    expect(stdout).toContain('  mesa-dispatch backlog clear ID [ID ...] [--id KEY] <transport>\n')
  })
})
