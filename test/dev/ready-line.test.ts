import { describe, expect, it } from 'vitest'
import { DEV_TOKEN, exportLine } from '../../dev/ready-line'
import { shellExports } from '../support/dev-ready'

describe('the export line npm run dev prints', () => {
  it('reads back through a real shell exactly, whatever the values hold', async () => {
    const awkward = {
      restUrl: 'http://127.0.0.1:8079/a b?x=$HOME&y=`id`',
      restToken: `it's "quoted" \\ $(id) ; exit 1\nnext line`,
      namespace: 'ns.with:colons-1',
      endpointUrl: 'http://127.0.0.1:8787/dispatch',
      token: `a token with 'quotes' and $(id)`,
    }

    expect(await shellExports(exportLine(awkward))).toEqual({
      UPSTASH_REDIS_REST_URL: awkward.restUrl,
      UPSTASH_REDIS_REST_TOKEN: awkward.restToken,
      MESA_NAMESPACE: 'ns.with:colons-1',
      MESA_SYNC: 'true',
      MESA_DISPATCH_ENDPOINT: 'http://127.0.0.1:8787',
      DISPATCH_TOKEN: awkward.token,
    })
  })

  it('leaves plain values bare, so the common line reads cleanly', () => {
    const stack = {
      restUrl: 'http://127.0.0.1:41234',
      restToken: '0123456789abcdef0123456789abcdef',
      namespace: 'api',
      endpointUrl: 'http://127.0.0.1:8787/dispatch',
      token: DEV_TOKEN,
    }
    expect(exportLine(stack)).toBe(
      'export UPSTASH_REDIS_REST_URL=http://127.0.0.1:41234 UPSTASH_REDIS_REST_TOKEN=0123456789abcdef0123456789abcdef MESA_NAMESPACE=api ' +
        'MESA_SYNC=true MESA_DISPATCH_ENDPOINT=http://127.0.0.1:8787 DISPATCH_TOKEN=local-dev-dispatch-token' +
        "  # paste to run the README's examples, serverless invoke local (events/README.md) or mesa-dispatch against this stack",
    )
  })
})
