// Preloaded with `node --require` to simulate a platform without the QUIC engine:
// resolving any `@chainsafe/libp2p-quic-*` package fails as it does when the optional
// dependency was not installed (the loader in src/transport/quic/engine.ts resolves
// it with a CommonJS require).
'use strict'
const Module = require('node:module')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (typeof request === 'string' && request.startsWith('@chainsafe/libp2p-quic-')) {
    const err = new Error(`Cannot find module '${request}' (hidden by test/helpers/hide-quic-engine.cjs)`)
    err.code = 'MODULE_NOT_FOUND'
    throw err
  }
  return resolve.call(this, request, ...rest)
}
