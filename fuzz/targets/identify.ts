/** The identify message (`specs/identify.md`): keys, addresses (multiaddr bytes), protocols, within its limits. */
import { decodeIdentify, MAX_IDENTIFY_MESSAGE_BYTES } from '../../src/protocols/identify-message.js'
import { defineTarget } from '../lib/target.js'

export default defineTarget({
  name: 'identify',
  description: `Identify protobuf (identify.md) up to MAX_IDENTIFY_MESSAGE_BYTES (${MAX_IDENTIFY_MESSAGE_BYTES}): listen and observed addresses as multiaddr bytes, protocols, public key, signed record bytes`,
  run (data) {
    decodeIdentify(data)
  }
})
