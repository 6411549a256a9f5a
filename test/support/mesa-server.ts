// The implementation moved to dev/ so that `npm run dev` runs the same Mesa server the tests do.
export { type MesaServer, type MesaServerOptions, mesaKey, mesaServerAt, release, startMesaServer } from '../../dev/mesa-server'
