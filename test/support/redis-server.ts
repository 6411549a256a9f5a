// The implementation moved to dev/ so that `npm run dev` and the tests share one lifecycle.
export { RedisServerMissingError, startRedisServer, type RedisServer } from '../../dev/redis-server'
