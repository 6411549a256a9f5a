// The implementation moved to dev/ so that `npm run dev` and the tests share one lifecycle.
export { type RedisServer, RedisServerMissingError, startRedisServer } from '../../dev/redis-server'
