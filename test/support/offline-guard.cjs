// Preloaded with NODE_OPTIONS="--require …/offline-guard.cjs" into a child process (and every Node process it
// starts) to prove it stays off the network: any TCP connection or DNS lookup fails at once and is appended to
// the file named by OFFLINE_GUARD_LOG, which the test then expects to be empty. OFFLINE_GUARD_ALLOW=loopback
// lets connections to 127.0.0.0/8, ::1 and localhost through (a local Redis gateway); Unix sockets always pass.
// A name under `.invalid` fails at once with getaddrinfo's ENOTFOUND, as RFC 6761 §6.4 asks resolvers to answer
// it, without asking a DNS server: that is no network use, so it is not logged, and a test of an unresolvable
// host needs no resolver (here, glibc would send the query to the configured nameserver).
'use strict'
const dns = require('node:dns')
const fs = require('node:fs')
const net = require('node:net')

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i
const allowed = (host) => process.env.OFFLINE_GUARD_ALLOW === 'loopback' && LOOPBACK.test(host)

function refuse(what) {
  const line = `${process.pid} ${process.argv.slice(1).join(' ')}: ${what}\n`
  if (process.env.OFFLINE_GUARD_LOG) fs.appendFileSync(process.env.OFFLINE_GUARD_LOG, line)
  const error = new Error(`offline-guard: refused ${what}`)
  error.code = 'ENETUNREACH'
  return error
}

const isInvalid = (hostname) => /(^|\.)invalid\.?$/i.test(String(hostname))
// The error getaddrinfo gives for a name that does not exist (libuv's EAI_NONAME, which Node names ENOTFOUND).
const notFound = (hostname) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname })

// net.connect, tls.connect, http(s) agents and undici all end in Socket.prototype.connect.
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }
  // net itself treats any truthy `path` as a Unix socket (http passes `path: null` for TCP).
  if (!options.path) {
    const host = options.host || 'localhost'
    // A `.invalid` name goes on to the lookup below, which fails it without any network use.
    if (!allowed(host) && !isInvalid(host)) {
      const error = refuse(`connect ${host}:${options.port}`)
      process.nextTick(() => this.destroy(error))
      return this
    }
  }
  return connect.apply(this, args)
}

const lookup = dns.lookup
dns.lookup = function (hostname, ...rest) {
  if (allowed(hostname)) return lookup.call(this, hostname, ...rest)
  const callback = rest[rest.length - 1]
  const error = isInvalid(hostname) ? notFound(hostname) : refuse(`dns lookup ${hostname}`)
  process.nextTick(() => callback(error))
}
const promiseLookup = dns.promises.lookup
dns.promises.lookup = async function (hostname, ...rest) {
  if (allowed(hostname)) return promiseLookup.call(this, hostname, ...rest)
  throw isInvalid(hostname) ? notFound(hostname) : refuse(`dns lookup ${hostname}`)
}
for (const method of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv']) {
  dns[method] = function (hostname, ...rest) {
    const callback = rest[rest.length - 1]
    const error = refuse(`dns ${method} ${hostname}`)
    process.nextTick(() => callback(error))
  }
}
