/**
 * Identity keys and peer ids (`specs/peer-ids.md`). Implementations live in
 * `src/identity/`; these are the shapes every other layer relies on.
 */

/** The four key types of the `KeyType` protobuf enum, by their spec names. */
export type KeyType = 'RSA' | 'Ed25519' | 'secp256k1' | 'ECDSA'

/** A public key that can verify signatures made under the libp2p signing rules. */
export interface PublicKey {
  readonly type: KeyType
  /** The `Data` field of the protobuf `PublicKey` message, as peer-ids.md defines it per type. */
  readonly raw: Uint8Array
  /** The deterministic protobuf encoding of the `PublicKey` message. */
  readonly bytes: Uint8Array
  /** Verifies `sig` over `data`; false (never throws) for any invalid signature. */
  verify (data: Uint8Array, sig: Uint8Array): boolean
  /** True when both keys encode to the same bytes. */
  equals (other: PublicKey): boolean
}

/** A private key that signs under the libp2p signing rules (synchronous, node:crypto). */
export interface PrivateKey {
  readonly type: KeyType
  readonly publicKey: PublicKey
  /** The `Data` field of the protobuf `PrivateKey` message. */
  readonly raw: Uint8Array
  /** The deterministic protobuf encoding of the `PrivateKey` message. */
  readonly bytes: Uint8Array
  /** Signs `data`; secp256k1 signatures are normalised to low-S. */
  sign (data: Uint8Array): Uint8Array
}

/** A peer id: the multihash of an encoded public key (`specs/peer-ids.md`, "Peer Ids"). */
export interface PeerId {
  /** The multihash bytes: identity multihash for keys <= 42 encoded bytes, else sha2-256. */
  readonly bytes: Uint8Array
  /** The key type when known (always for identity multihashes). */
  readonly type: KeyType | undefined
  /** The public key when it is inlined in the id or was supplied when the id was made. */
  readonly publicKey: PublicKey | undefined
  /** base58btc text form (the legacy form every implementation prints). */
  toString (): string
  /** CIDv1 text form: multibase base32, multicodec `libp2p-key` (RFC 0001). */
  toCID (): string
  /** True when both ids have the same multihash; strings are parsed in either text form. */
  equals (other: PeerId | string | Uint8Array): boolean
}
