/**
 * Noise transport messages (`specs/noise.md`, "Wire Format"; Noise section 5.1):
 * framed ChaCha20-Poly1305 messages, decrypted as they stream in.
 *
 * The first input byte picks a mode. Raw: the rest is what a hostile peer sends,
 * framing and all (nearly every message fails authentication, which must be the
 * typed ERR_DECRYPTION_FAILED). Sealed: the rest is cut into plaintext messages that
 * are sealed with the right key, so the decoder's framing, tag handling and plaintext
 * assembly are exercised on authentic traffic cut at arbitrary points; the plaintext
 * must come out identical.
 */
import { CipherState } from '../../src/security/noise/cipher-state.js'
import { sealFrames } from '../../src/security/noise/transport-codec.js'
import { TransportDecoder } from '../../src/security/noise/transport-decoder.js'
import { chunks, defineTarget, invariant } from '../lib/target.js'

const KEY = Buffer.alloc(32, 7)

export default defineTarget({
  name: 'noise-transport',
  description: 'Noise transport decoding (noise.md, Noise 5.1): hostile ciphertext, or authentic messages cut at arbitrary points',
  run (data) {
    const decoder = new TransportDecoder(new CipherState(KEY))
    const out: Buffer[] = []
    if (((data[0] ?? 0) & 1) === 0) {
      for (const c of chunks(data)) decoder.decode(c, out)
      return
    }
    const plain = chunks(data.subarray(1))
    const send = new CipherState(KEY)
    const wire = Buffer.concat(plain.flatMap((p) => sealFrames(send, [p], p.byteLength)))
    for (const c of chunks(Buffer.concat([Uint8Array.of(data[1] ?? 0), wire]))) decoder.decode(c, out)
    invariant(Buffer.concat(out).equals(Buffer.concat(plain)), 'authentic messages did not decrypt to their plaintext')
    invariant(!decoder.partial, 'a complete stream of messages left the decoder mid-message')
  }
})
