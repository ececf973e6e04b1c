/**
 * Key protobufs and peer ids (`specs/peer-ids.md`): PublicKey and PrivateKey
 * messages of every key type, and peer id multihash bytes. A public key that decodes
 * must re-encode to the same bytes (peer ids hash them), with one deliberate
 * exception: an ECDSA key given with a compressed point is accepted and normalised
 * to the uncompressed form (`test/identity/ecdsa.test.ts`), which must then decode
 * to the same key.
 */
import { privateKeyFromProtobuf, publicKeyFromProtobuf } from '../../src/identity/keys.js'
import { peerIdFromBytes } from '../../src/identity/peer-id.js'
import { defineTarget, invariant } from '../lib/target.js'

function typed (fn: () => void): void {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_'))) throw err
  }
}

export default defineTarget({
  name: 'keys',
  description: 'PublicKey / PrivateKey protobufs of all four key types and peer id multihashes (peer-ids.md)',
  run (data) {
    typed(() => {
      const key = publicKeyFromProtobuf(data)
      if (Buffer.from(key.bytes).equals(data)) return
      const normalisedEcdsa = key.type === 'ECDSA' && data.byteLength < key.bytes.byteLength && publicKeyFromProtobuf(key.bytes).equals(key)
      invariant(normalisedEcdsa, 'a public key did not re-encode to its bytes')
    })
    typed(() => { peerIdFromBytes(data) })
    privateKeyFromProtobuf(data)
  }
})
