import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevStack, startDevStack } from '../dev/stack'

const CHROMIUM = '/usr/bin/chromium'
const INSTALL = 'install it with `apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this)'
const SCREENSHOT = fileURLToPath(new URL('./artifacts/console.png', import.meta.url))
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]
// Chromium, Mesa and Redis share two cores on CI: wait on what the page shows, never on how fast it shows it.
const WAIT = { timeout: 30_000 }

let stack: DevStack
let browser: Browser
let page: Page
const mesaErrors: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: ${INSTALL}`)
  try {
    // playwright-core drives the system's Chromium; it never downloads a browser of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 })
  } catch (error) {
    throw new Error(`Chromium at ${CHROMIUM} could not be launched (${(error as Error).message}); ${INSTALL}`)
  }
  stack = await startDevStack({ port: 0, mesaPort: 0, onError: (message) => mesaErrors.push(message) })
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(stack.consoleUrl)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

/** A demo client's card in the console. */
const client = (id: string) => page.locator(`.client[data-client="${id}"]`)

/** Fills the form, sends it, and resolves with the JSON the page shows once the endpoint has answered. */
async function send(fields: { recipients: string; excluding?: string; type?: string; data?: string; sync?: boolean; disconnect?: boolean }) {
  const before = Number((await page.locator('#result').getAttribute('data-count')) ?? 0)
  await page.fill('input[name=recipients]', fields.recipients)
  await page.fill('input[name=excluding]', fields.excluding ?? '')
  await page.check(`input[name=kind][value=${fields.disconnect ? 'disconnect' : 'message'}]`)
  if (!fields.disconnect) {
    await page.fill('input[name=type]', fields.type ?? '')
    await page.fill('textarea[name=data]', fields.data ?? 'null')
    await page.setChecked('input[name=sync]', fields.sync ?? true)
  }
  await page.click('#send')
  await page.locator(`#result[data-count="${before + 1}"]`).waitFor(WAIT)
  return JSON.parse(await page.locator('#result').innerText()) as { ok: boolean; result: Record<string, unknown> }
}

describe('the dev console in Chromium', () => {
  it('shows every demo client online on a live feed', { timeout: 60_000 }, async () => {
    await page.locator('#feed-state[data-status=online]').waitFor(WAIT)
    for (const id of ['alice', 'bob', 'carol']) await client(id).locator('.status[data-status=online]').waitFor(WAIT)
    expect(await page.locator('#facts').innerText()).toContain(stack.endpointUrl)
  })

  it('shows what POST /presence and /backlog answer: every demo client in the online set, nothing stored', { timeout: 60_000 }, async () => {
    await page.locator('#connected[data-connected="3"]').waitFor(WAIT)
    for (const id of ['alice', 'bob', 'carol']) {
      await client(id).locator('.presence[data-presence=online]').waitFor(WAIT)
      await client(id).locator('.backlog-summary[data-count="0"]').waitFor(WAIT)
    }
    expect(await page.locator('#connected').innerText()).toBe('connected: 3')
    expect(await client('alice').locator('.clear').isDisabled()).toBe(true)
  })

  it('sends a dispatch from the form through /dispatch and sees it arrive in the feed of the client it names, not of the one it excludes', {
    timeout: 60_000,
  }, async () => {
    const answer = await send({ recipients: 'alice, bob', excluding: 'bob', type: 'FROM_FORM', data: '{"greeting": "hi alice"}' })
    expect(answer).toMatchObject({ ok: true, result: { recipients: ['alice'], online: ['alice'], stored: 0 } })
    expect(await page.locator('#result-status').innerText()).toContain('200')

    const frame = client('alice').locator('.frame[data-t=FROM_FORM]')
    await frame.waitFor(WAIT)
    expect(await frame.innerText()).toContain('{"greeting":"hi alice"}')
    expect(await client('bob').locator('.frame[data-t=FROM_FORM]').count()).toBe(0)
  })

  it('says why when a dispatch reached 0 servers: no Mesa server subscribed to ws_<namespace>, the namespace named', { timeout: 60_000 }, async () => {
    // The demo Mesa server always listens, so the endpoint's answer is stood in for: the page's rendering is the unit.
    const unheard = {
      ok: true,
      result: { servers: 0, recipients: ['alice'], online: [], offline: [], unstored: [], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false },
    }
    await page.route('**/dispatch', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(unheard) }))
    try {
      expect(await send({ recipients: 'alice', type: 'UNHEARD', data: '{}' })).toEqual(unheard)
      expect(await page.locator('#result-status').innerText()).toBe(
        `POST /dispatch → 200: reached 0 servers: no Mesa server is subscribed to ws_${stack.namespace} (namespace "${stack.namespace}") on this stack's Redis`,
      )
    } finally {
      await page.unroute('**/dispatch')
    }
  })

  it('takes a client offline, stores what is sent to it, and shows the redelivery with its s numbers when it is back', { timeout: 90_000 }, async () => {
    await client('bob').locator('.toggle').click()
    await client('bob').locator('.status[data-status=offline]').waitFor(WAIT)

    for (const n of [1, 2]) {
      const answer = await send({ recipients: 'bob', type: 'WHILE_AWAY', data: `{"n": ${n}}` })
      expect(answer).toMatchObject({ ok: true, result: { online: [], offline: ['bob'], stored: 1 } })
    }
    // With sync off, an offline recipient's message is dropped rather than stored.
    expect(await send({ recipients: 'bob', type: 'NOT_KEPT', data: '{}', sync: false })).toMatchObject({ ok: true, result: { offline: ['bob'], stored: 0 } })
    expect(await client('bob').locator('.frame[data-t=WHILE_AWAY]').count()).toBe(0)

    await client('bob').locator('.toggle').click()
    await client('bob').locator('.status[data-status=online]').waitFor(WAIT)
    const redelivered = client('bob').locator('.frame.redelivered[data-t=WHILE_AWAY]')
    await client('bob').locator('.frame[data-t=WHILE_AWAY][data-s="2"]').waitFor(WAIT)
    expect(await redelivered.evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.s))).toEqual(['1', '2'])
    expect(await redelivered.first().innerText()).toContain('s 1 redelivered')
    expect(await client('bob').locator('.frame[data-t=NOT_KEPT]').count()).toBe(0)
  })

  it('shows a stored backlog as Mesa would redeliver it, clears it with the button, and the next login redelivers nothing', { timeout: 90_000 }, async () => {
    await client('alice').locator('.toggle').click()
    await client('alice').locator('.status[data-status=offline]').waitFor(WAIT)
    await client('alice').locator('.presence[data-presence=offline]').waitFor(WAIT)
    await page.locator('#connected[data-connected="2"]').waitFor(WAIT)

    for (const n of [1, 2]) expect(await send({ recipients: 'alice', type: 'TO_CLEAR', data: `{"n": ${n}}` })).toMatchObject({ result: { stored: 1 } })
    await client('alice').locator('.backlog-summary[data-count="2"]').waitFor(WAIT)
    expect(await client('alice').locator('.backlog li').allInnerTexts()).toEqual(['{"op":0,"d":{"n":1},"t":"TO_CLEAR"}', '{"op":0,"d":{"n":2},"t":"TO_CLEAR"}'])

    const before = Number(await page.locator('#result').getAttribute('data-count'))
    await client('alice').locator('.clear').click()
    await page.locator(`#result[data-count="${before + 1}"]`).waitFor(WAIT)
    expect(await page.locator('#result-status').innerText()).toBe('POST /backlog/clear → 200')
    expect(JSON.parse(await page.locator('#result').innerText())).toMatchObject({ ok: true, result: { cleared: [{ recipient: 'alice', messages: 2 }] } })
    await client('alice').locator('.backlog-summary[data-count="0"]').waitFor(WAIT)

    await client('alice').locator('.toggle').click()
    await client('alice').locator('.status[data-status=online]').waitFor(WAIT)
    await client('alice').locator('.presence[data-presence=online]').waitFor(WAIT)
    // A message sent after the login arrives after anything Mesa redelivers at it: by then none had come.
    await send({ recipients: 'alice', type: 'AFTER_LOGIN', data: '{}' })
    await client('alice').locator('.frame[data-t=AFTER_LOGIN]').waitFor(WAIT)
    expect(await client('alice').locator('.frame[data-t=TO_CLEAR]').count()).toBe(0)
  })

  it('disconnects a client with DISCONNECT_CLIENT and saves a screenshot', { timeout: 60_000 }, async () => {
    expect(await send({ recipients: 'carol', disconnect: true })).toMatchObject({ ok: true, result: { recipients: ['carol'] } })
    await client('carol').locator('.status[data-status=offline]').waitFor(WAIT)
    expect(await client('carol').locator('.detail').innerText()).toContain('code 1000')

    mkdirSync(fileURLToPath(new URL('./artifacts/', import.meta.url)), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(existsSync(SCREENSHOT)).toBe(true)
    expect(mesaErrors).toEqual([])
  })
})
