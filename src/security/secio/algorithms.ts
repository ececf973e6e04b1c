/**
 * What SECIO peers choose from, and how they choose (`specs/secio.md`, "Algorithm
 * Support" and "Determining Roles and Algorithms"). Pure.
 *
 * Names are the strings the proposals carry. Our default preference lists are the
 * spec's, in go-libp2p-secio's order (the reference implementation): strongest cipher
 * first, the cheapest curve and hash first. Blowfish, which go-libp2p once offered,
 * is not part of the spec and is never offered or accepted.
 */
import { createHash } from 'node:crypto'
import { codes, Lp2pError } from '../../errors.js'

/** Ephemeral ECDH curves: SECIO name -> node:crypto curve and uncompressed point size (1 + 2 x field bytes). */
export const SECIO_CURVES = {
  'P-256': { curve: 'prime256v1', pointBytes: 65 },
  'P-384': { curve: 'secp384r1', pointBytes: 97 },
  'P-521': { curve: 'secp521r1', pointBytes: 133 }
} as const

/** Ciphers: AES in CTR mode; key sizes from "Key Stretching" (the IV is 16 bytes for both). */
export const SECIO_CIPHERS = {
  'AES-256': { algorithm: 'aes-256-ctr', keyBytes: 32 },
  'AES-128': { algorithm: 'aes-128-ctr', keyBytes: 16 }
} as const

/** Hashes: for key stretching and the packet HMAC; `macBytes` is the HMAC output size. */
export const SECIO_HASHES = {
  SHA256: { algorithm: 'sha256', macBytes: 32 },
  SHA512: { algorithm: 'sha512', macBytes: 64 }
} as const

export type SecioCurve = keyof typeof SECIO_CURVES
export type SecioCipher = keyof typeof SECIO_CIPHERS
export type SecioHash = keyof typeof SECIO_HASHES

/** IV size of every cipher: one AES block ("Key Stretching" table). */
export const SECIO_IV_BYTES = 16
/** "The generated MAC key will always have a size of 20 bytes." */
export const SECIO_MAC_KEY_BYTES = 20
/** The proposal nonce: "A 16 byte random nonce" ("Proposal Generation"). */
export const SECIO_NONCE_BYTES = 16

export interface SecioPreferences {
  exchanges: readonly SecioCurve[]
  ciphers: readonly SecioCipher[]
  hashes: readonly SecioHash[]
}

/** Our default preferences (go-libp2p-secio's order, without Blowfish). */
export const DEFAULT_SECIO_PREFERENCES: Readonly<SecioPreferences> = Object.freeze({
  exchanges: ['P-256', 'P-384', 'P-521'] as SecioCurve[],
  ciphers: ['AES-256', 'AES-128'] as SecioCipher[],
  hashes: ['SHA256', 'SHA512'] as SecioHash[]
})

/** The algorithms both sides agreed on. */
export interface SecioAgreement {
  exchange: SecioCurve
  cipher: SecioCipher
  hash: SecioHash
}

/**
 * Checks user preferences: non-empty lists of known names without repeats. Throws a
 * RangeError naming the bad entry (an API misuse, not a wire error).
 */
export function checkPreferences (prefs: Partial<SecioPreferences>): SecioPreferences {
  const out = { ...DEFAULT_SECIO_PREFERENCES, ...prefs }
  const check = (name: string, list: readonly string[], known: object): void => {
    if (!Array.isArray(list) || list.length === 0) throw new RangeError(`SECIO ${name} must be a non-empty list`)
    for (const item of list) {
      if (!Object.hasOwn(known, item)) throw new RangeError(`SECIO ${name}: unknown ${JSON.stringify(item)} (known: ${Object.keys(known).join(', ')})`)
    }
    if (new Set(list).size !== list.length) throw new RangeError(`SECIO ${name}: repeated entries`)
  }
  check('exchanges', out.exchanges, SECIO_CURVES)
  check('ciphers', out.ciphers, SECIO_CIPHERS)
  check('hashes', out.hashes, SECIO_HASHES)
  return out
}

/**
 * Whose preferences win ("Determining Roles and Algorithms"): compares
 * `oh1 = sha256(remotePubKey || localNonce)` with `oh2 = sha256(localPubKey || remoteNonce)`.
 * Returns 1 when ours win (oh1 > oh2), -1 when the remote's do. Equal hashes mean the
 * remote sent our own proposal back (we dialed ourselves, or the proposal was
 * reflected): ERR_DIALED_SELF.
 */
export function preferenceOrder (localPubKey: Uint8Array, localNonce: Uint8Array, remotePubKey: Uint8Array, remoteNonce: Uint8Array): 1 | -1 {
  const oh1 = createHash('sha256').update(remotePubKey).update(localNonce).digest()
  const oh2 = createHash('sha256').update(localPubKey).update(remoteNonce).digest()
  const cmp = Buffer.compare(oh1, oh2)
  if (cmp === 0) throw new Lp2pError(codes.ERR_DIALED_SELF, 'the remote proposal hashes like ours: a connection to ourselves, or our proposal sent back')
  return cmp > 0 ? 1 : -1
}

/**
 * The first entry of the preferred side's list that the other side also lists
 * (`order` 1: ours first). Undefined when the lists share nothing.
 */
export function selectBest<T extends string> (order: 1 | -1, local: readonly T[], remote: readonly string[]): T | undefined {
  if (order > 0) return local.find((a) => remote.includes(a))
  return remote.find((a): a is T => (local as readonly string[]).includes(a))
}

/** Agrees on all three algorithms, or throws ERR_NEGOTIATION_FAILED naming the list that shares nothing. */
export function agree (order: 1 | -1, local: SecioPreferences, remote: { exchanges: string[], ciphers: string[], hashes: string[] }): SecioAgreement {
  const pick = <T extends string>(name: string, ours: readonly T[], theirs: string[]): T => {
    const chosen = selectBest(order, ours, theirs)
    if (chosen === undefined) {
      throw new Lp2pError(codes.ERR_NEGOTIATION_FAILED, `no common SECIO ${name}: ours [${ours.join(',')}], the remote's [${theirs.join(',')}]`)
    }
    return chosen
  }
  return {
    exchange: pick('exchange', local.exchanges, remote.exchanges),
    cipher: pick('cipher', local.ciphers, remote.ciphers),
    hash: pick('hash', local.hashes, remote.hashes)
  }
}
