// The implementation moved to dev/ so that `npm run dev` and the tests share it.
export { freePort } from '../../dev/free-port'
