import { DEFAULT_CLIENT_MAX_RETRIES, DEFAULT_CLIENT_TIMEOUT_MS, DEFAULT_REDIS_TIMEOUT_MS } from '../limits.js'

/** The text `mesa-dispatch --help` prints: commands, options, env fallbacks, examples and exit codes. */
export const USAGE = `mesa-dispatch: send Mesa dispatches from a shell, through the dispatch endpoint or straight to Redis.

Usage:
  mesa-dispatch send --data JSON [--type T] [--op N] [--to a,b] [--exclude a,b] [--no-sync] [--id KEY] <transport>
  mesa-dispatch disconnect ID [ID ...] [--exclude a,b] [--id KEY] <transport>
  mesa-dispatch presence [ID ...] <transport>        who is online; with no id, how many are connected
  mesa-dispatch backlog show ID [--limit N] <transport>  what waits for ID, as Mesa would redeliver it (every page)
  mesa-dispatch backlog clear ID [ID ...] [--id KEY] <transport>
  mesa-dispatch --help | --version

Message:
  --data JSON        the message data, sent as "d" (required for send; quote strings: '"hi"')
  --type T           the message type, sent as "t"
  --op N             the opcode (default 0)
  --to a,b           the recipients (default *, every client)
  --exclude a,b      recipients to leave out (ignored with *, as in Mesa)
  --numeric-ids      send all-digit ids as numbers (in every command); Mesa compares ids strictly, so 7 and "7" differ
  --no-sync          do not store the message for offline recipients
  --id KEY           an idempotency key (send, disconnect, backlog clear): a repeat within 24 h is applied once
  --limit N          backlog show: only the first N messages (by default it reads every page of the backlog)
  --json             print the result, or { ok: false, error }, as one JSON line

Transport, exactly one of:
  --endpoint URL     the deployed endpoint (env MESA_DISPATCH_ENDPOINT), with one of
    --token T        its DISPATCH_TOKEN (env DISPATCH_TOKEN)
    --secret S       a key's signing secret, to sign the request (env DISPATCH_SIGNING_SECRET)
    --key-id NAME    the key the secret belongs to (env DISPATCH_KEY_ID, default: default, DISPATCH_SIGNING_SECRET's)
  --rest-url URL     an Upstash REST URL (env UPSTASH_REDIS_REST_URL), with
    --rest-token T   its token (env UPSTASH_REDIS_REST_TOKEN)
    --namespace NS   the Mesa server's namespace (env MESA_NAMESPACE, default none)
    --sync           the Mesa server has sync on: store for offline clients (env MESA_SYNC, default false)
  --timeout MS       how long to wait for an answer (default ${DEFAULT_CLIENT_TIMEOUT_MS} per attempt for --endpoint, ${DEFAULT_REDIS_TIMEOUT_MS} per attempt for --rest-url)
  --retries N        --endpoint: send again up to N times after no answer, a 429 or a 5xx, with the same key (default ${DEFAULT_CLIENT_MAX_RETRIES})
  Flags win over the env.

Examples:
  mesa-dispatch send --endpoint https://abc.execute-api.eu-west-1.amazonaws.com --token "$DISPATCH_TOKEN" \\
    --type STATUS_UPDATE --data '{"status":"online"}' --to 0,1 --exclude 1
  mesa-dispatch send --rest-url "$UPSTASH_REDIS_REST_URL" --rest-token "$UPSTASH_REDIS_REST_TOKEN" --namespace api --sync \\
    --type STATUS_UPDATE --data '{"status":"online"}' --to 0,1
  mesa-dispatch disconnect 0 --endpoint "$MESA_DISPATCH_ENDPOINT" --secret "$DISPATCH_SIGNING_SECRET" --json
  mesa-dispatch presence alice bob --endpoint "$MESA_DISPATCH_ENDPOINT" --token "$DISPATCH_TOKEN"
  mesa-dispatch backlog clear alice --rest-url "$UPSTASH_REDIS_REST_URL" --rest-token "$UPSTASH_REDIS_REST_TOKEN" --namespace api

Exit codes:
  0  the dispatch was applied, or the question answered
  1  any other failure (e.g. Redis refused the script: HTTP 502)
  2  bad input: a usage error, --data that is not JSON, HTTP 400 or 413, a ValidationError or ConfigError
  3  credentials refused: HTTP 401 or 403, or Redis refused the REST token
  4  unreachable: a network error, a timeout, HTTP 503 or Redis unavailable, after every retry; to retry later, pass
     the --id the error names, if any, so that a command that may have been applied is applied at most once
`
