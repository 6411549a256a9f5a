// Preloaded with NODE_OPTIONS="--require …/dual-stack-localhost.cjs" after offline-guard.cjs: `localhost` resolves
// to ::1 and 127.0.0.1, as /etc/hosts has it on many Linux distributions and macOS (here it lists 127.0.0.1 alone).
// Node's fetch then tries both addresses (autoSelectFamily, on by default since Node 20) and, when both refuse,
// fails with an AggregateError whose `errors` hold one ECONNREFUSED each: the shape a user met on such a host.
// https://nodejs.org/api/net.html#socketconnectoptions-connectlistener
'use strict'
const dns = require('node:dns')

const ADDRESSES = [
  { address: '::1', family: 6 },
  { address: '127.0.0.1', family: 4 },
]
const lookup = dns.lookup
dns.lookup = function (hostname, options, callback) {
  if (String(hostname).toLowerCase() !== 'localhost') return lookup.apply(this, arguments)
  const done = typeof options === 'function' ? options : callback
  const all = typeof options === 'object' && options !== null && options.all === true
  process.nextTick(() => (all ? done(null, ADDRESSES) : done(null, ADDRESSES[0].address, ADDRESSES[0].family)))
}
