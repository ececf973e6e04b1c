/**
 * Sizes fixed by the one Noise suite libp2p uses, `Noise_XX_25519_ChaChaPoly_SHA256`
 * (`specs/noise.md`, "Noise Protocol Name"), and by the libp2p wire format.
 */

/** The Noise protocol name; exactly 32 bytes, so it is used as `h` without hashing (Noise §5.2). */
export const PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_SHA256'

/** X25519 public keys and shared secrets are 32 bytes (RFC 7748 §5; Noise §12.1 DHLEN). */
export const DH_LENGTH = 32

/** SHA-256 output, Noise HASHLEN (Noise §12.3). Chaining key and handshake hash have this size. */
export const HASH_LENGTH = 32

/** ChaCha20-Poly1305 key size (RFC 8439 §2.8). */
export const KEY_LENGTH = 32

/** Poly1305 authentication tag appended to every ciphertext (RFC 8439 §2.8; Noise §5.1). */
export const TAG_LENGTH = 16

/** ChaCha20-Poly1305 nonce: 4 zero bytes then a 64-bit little-endian counter (Noise §12.2). */
export const NONCE_LENGTH = 12

/**
 * Bytes of the length prefix in front of every Noise message: a 16-bit big-endian
 * unsigned integer (`specs/noise.md`, "Wire Format").
 */
export const LENGTH_PREFIX_LENGTH = 2

/**
 * Largest Noise message, ciphertext and tag included. Noise §3 caps messages at 65535
 * bytes, which is also the largest value the 2-byte length prefix can carry.
 */
export const MAX_NOISE_MESSAGE_LENGTH = 65535

/** Largest plaintext one transport message can carry: 65535 - 16 = 65519 bytes. */
export const MAX_PLAINTEXT_LENGTH = MAX_NOISE_MESSAGE_LENGTH - TAG_LENGTH
