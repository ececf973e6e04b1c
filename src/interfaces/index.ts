/** The shared shapes between layers. Implementations live in the feature folders. */
export type * from './keys.js'
export type * from './channel.js'
export type * from './security.js'
export type * from './muxer.js'
export type * from './transport.js'
export type * from './connection.js'
export type * from './peer-store.js'
