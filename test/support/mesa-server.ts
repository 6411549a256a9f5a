// The implementation moved to dev/ so that `npm run dev` runs the same Mesa server the tests do.
export { mesaKey, mesaServerAt, release, startMesaServer, type MesaServer, type MesaServerOptions } from '../../dev/mesa-server'
