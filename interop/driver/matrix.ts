/**
 * The interop matrix, as pure data: which cases to run for which pairs of
 * implementations, and which are unsupported and why. No processes, no clock; the
 * runner (`run-pair.ts`) executes what this plans and `report.ts` renders it.
 *
 * A case is one dialer and one listener with one transport/security/muxer combination
 * and one key type per side. Five kinds of columns:
 * - combinations: every transport x security x muxer, both sides on Ed25519 keys; a
 *   transport with built-in security and muxing (QUIC) is one combination, named by
 *   the transport alone;
 * - key types: each non-default key type on the base combination (tcp/noise/yamux,
 *   the one every implementation has), and on each built-in transport (its TLS
 *   certificate carries the key), so each key type crosses the wire;
 * - the legacy and test-only security protocols (SECIO, plaintext), one column each
 *   on tcp/yamux: off by default everywhere, so not worth the whole grid;
 * - private networks on the base combination: a PSK both sides share (must pass), and
 *   a different PSK on each side (must be refused: the dialer fails);
 * - checks: a property checked on the base combination with Ed25519 keys beyond the
 *   usual contract (`peer-record`: the listener's signed peer record, sent in
 *   identify, is accepted by the dialer as certified; see `run-case.ts`).
 */

export const TRANSPORTS = ['tcp', 'ws', 'quic-v1'] as const
/** Transports that bring their own security and muxer: no choice of either. */
export const BUILT_IN_TRANSPORTS: readonly string[] = ['quic-v1']
export const SECURITY = ['noise', 'tls'] as const
/** Security protocols with one column each (tcp/<security>/yamux) rather than the whole grid. */
export const EXTRA_SECURITY = ['secio', 'plaintext'] as const
/** Private network columns: `pnet:shared` must pass, `pnet:wrong-psk` must be refused. */
export const PNET_MODES = ['shared', 'wrong-psk'] as const
export type PnetMode = (typeof PNET_MODES)[number]
export const MUXERS = ['yamux', 'mplex'] as const
export const KEY_TYPES = ['ed25519', 'secp256k1', 'ecdsa', 'rsa'] as const
export const DEFAULT_KEY = 'ed25519'
/** Checks beyond the contract, each a column on the base combination (INTEROP_CHECK). */
export const CHECKS = ['peer-record'] as const
/** The combination every implementation supports; key-type cases run on it. */
export const BASE_COMBO: Combo = { transport: 'tcp', security: 'noise', muxer: 'yamux' }

export type Role = 'dialer' | 'listener'

export interface Combo { transport: string, security: string, muxer: string }

/** What one implementation can do; for lp2p reported by its peer, for others full sets less the unsupported file. */
export interface Capabilities {
  transports: string[]
  security: string[]
  muxers: string[]
  keyTypes: string[]
  /** Private networks with a pre-shared key (pnet.md). */
  pnet?: boolean
  /** Checks it can take part in; absent means none (an lp2p peer that predates them). */
  checks?: string[]
}

/** One line of `interop/unsupported.json`. */
export interface UnsupportedEntry {
  transport?: string
  security?: string
  muxer?: string
  role?: Role
  /** Only against this implementation (or these): for an incompatibility between two reference peers. */
  peer?: string | string[]
  keyType?: string
  /** For keyType entries: 'host-key' (cannot use it itself), 'remote' (rejects it from a remote), absent = both. */
  scope?: 'host-key' | 'remote'
  /** Only the private network cases (pnet: true); alone, the implementation has no private networks. */
  pnet?: boolean
  /** Only for this check's column (an entry without it applies to every column). */
  check?: string
  reason: string
}

export interface Implementation {
  name: string
  /** lp2p's unsupported cells read 'lp2p-unsupported' and start passing once lp2p gains the feature. */
  isLp2p: boolean
  capabilities: Capabilities
  unsupported: UnsupportedEntry[]
}

export interface Case {
  /** Stable id, also the key in results.json. */
  id: string
  row: string
  column: string
  dialer: string
  listener: string
  combo: Combo
  dialerKey: string
  listenerKey: string
  /** A private network case: both sides get a PSK, the same one or different ones. */
  pnet?: PnetMode
  /** The check of a check column (INTEROP_CHECK for both peers). */
  check?: string
}

export type Skip = { kind: 'unsupported' | 'lp2p-unsupported', reason: string }

export interface PlannedCase extends Case { skip?: Skip }

export function isBuiltIn (c: Combo): boolean {
  return BUILT_IN_TRANSPORTS.includes(c.transport)
}

export function comboLabel (c: Combo): string {
  return isBuiltIn(c) ? c.transport : `${c.transport}/${c.security}/${c.muxer}`
}

/** The one combination of a built-in transport: its own security and muxer, by its name. */
function builtInCombo (transport: string): Combo {
  return { transport, security: transport, muxer: transport }
}

export function allCombos (): Combo[] {
  const out: Combo[] = []
  for (const transport of TRANSPORTS) {
    if (BUILT_IN_TRANSPORTS.includes(transport)) {
      out.push(builtInCombo(transport))
      continue
    }
    for (const security of SECURITY) {
      for (const muxer of MUXERS) out.push({ transport, security, muxer })
    }
  }
  return out
}

/** The capabilities a reference implementation has: everything, less what its unsupported entries rule out entirely. */
export function referenceCapabilities (entries: UnsupportedEntry[]): Capabilities {
  const whole = (field: 'transport' | 'security' | 'muxer', value: string): boolean =>
    entries.some((e) => e[field] === value && Object.keys(e).filter((k) => k !== 'reason').length === 1)
  // An entry that names a peer, role or combination rules out only those cases, not the key type.
  const limited = (e: UnsupportedEntry): boolean => e.transport !== undefined || e.security !== undefined ||
    e.muxer !== undefined || e.role !== undefined || e.peer !== undefined || e.check !== undefined
  return {
    transports: TRANSPORTS.filter((t) => !whole('transport', t)),
    security: [...SECURITY, ...EXTRA_SECURITY].filter((s) => !whole('security', s)),
    muxers: MUXERS.filter((m) => !whole('muxer', m)),
    keyTypes: KEY_TYPES.filter((k) => !entries.some((e) => e.keyType === k && e.scope !== 'remote' && !limited(e))),
    pnet: !entries.some((e) => e.pnet === true && Object.keys(e).filter((k) => k !== 'reason').length === 1),
    checks: [...CHECKS]
  }
}

interface Side { impl: Implementation, role: Role, key: string, remoteKey: string, remote: string, pnet: PnetMode | undefined, check?: string }

/** Why one side cannot run this case, or undefined. */
function sideSkip (side: Side, combo: Combo): Skip | undefined {
  const { impl, role, key, remoteKey } = side
  const kind = impl.isLp2p ? 'lp2p-unsupported' : 'unsupported'
  const caps = impl.capabilities
  if (!caps.transports.includes(combo.transport)) return { kind, reason: `${impl.name}: no ${combo.transport} transport` }
  if (!isBuiltIn(combo) && !caps.security.includes(combo.security)) return { kind, reason: `${impl.name}: no ${combo.security}` }
  if (!isBuiltIn(combo) && !caps.muxers.includes(combo.muxer)) return { kind, reason: `${impl.name}: no ${combo.muxer}` }
  if (!caps.keyTypes.includes(key)) return { kind, reason: `${impl.name}: no ${key} host key` }
  if (side.pnet !== undefined && caps.pnet !== true) return { kind, reason: `${impl.name}: no private networks` }
  if (side.check !== undefined && !(caps.checks ?? []).includes(side.check)) return { kind, reason: `${impl.name}: no ${side.check} check` }
  for (const e of impl.unsupported) {
    if (e.pnet === true && side.pnet === undefined) continue
    if (e.check !== undefined && e.check !== side.check) continue
    if (e.transport !== undefined && e.transport !== combo.transport) continue
    if (e.security !== undefined && e.security !== combo.security) continue
    if (e.muxer !== undefined && e.muxer !== combo.muxer) continue
    if (e.role !== undefined && e.role !== role) continue
    if (e.peer !== undefined && !(Array.isArray(e.peer) ? e.peer : [e.peer]).includes(side.remote)) continue
    if (e.keyType !== undefined) {
      const own = e.scope !== 'remote' && e.keyType === key
      const remote = e.scope !== 'host-key' && e.keyType === remoteKey
      if (!own && !remote) continue
    }
    return { kind, reason: `${impl.name}: ${e.reason}` }
  }
  return undefined
}

/**
 * The key each side uses in a key-type column: the column's type where the side can
 * make such a key, else Ed25519 (the side then only verifies the other's key). A pair
 * in which neither side can make the key has nothing to test and is skipped.
 */
function keysFor (dialer: Implementation, listener: Implementation, keyType: string): [string, string] | undefined {
  const can = (impl: Implementation): boolean => impl.capabilities.keyTypes.includes(keyType) &&
    !impl.unsupported.some((e) => e.keyType === keyType && e.scope === 'host-key' && e.peer === undefined && e.role === undefined)
  const d = can(dialer); const l = can(listener)
  if (!d && !l) return undefined
  return [d ? keyType : DEFAULT_KEY, l ? keyType : DEFAULT_KEY]
}

export function rowLabel (dialer: string, listener: string): string {
  return `${dialer} -> ${listener}`
}

/** Every case for one ordered pair: all combinations, then the non-default key types on each key-carrying combination. */
export function planPair (dialer: Implementation, listener: Implementation): PlannedCase[] {
  const row = rowLabel(dialer.name, listener.name)
  const out: PlannedCase[] = []
  const add = (column: string, combo: Combo, dialerKey: string, listenerKey: string, forced?: Skip, pnet?: PnetMode, check?: string): void => {
    const c = check !== undefined ? { check } : {}
    const skip = forced ??
      sideSkip({ impl: dialer, role: 'dialer', key: dialerKey, remoteKey: listenerKey, remote: listener.name, pnet, ...c }, combo) ??
      sideSkip({ impl: listener, role: 'listener', key: listenerKey, remoteKey: dialerKey, remote: dialer.name, pnet, ...c }, combo)
    const planned: PlannedCase = { id: `${row} ${column}`, row, column, dialer: dialer.name, listener: listener.name, combo, dialerKey, listenerKey, ...c }
    if (pnet !== undefined) planned.pnet = pnet
    if (skip !== undefined) planned.skip = skip
    out.push(planned)
  }
  for (const combo of allCombos()) add(comboLabel(combo), combo, DEFAULT_KEY, DEFAULT_KEY)
  for (const combo of [BASE_COMBO, ...BUILT_IN_TRANSPORTS.map(builtInCombo)]) {
    for (const keyType of KEY_TYPES) {
      if (keyType === DEFAULT_KEY) continue
      const keys = keysFor(dialer, listener, keyType)
      const column = combo === BASE_COMBO ? `key:${keyType}` : `${comboLabel(combo)} key:${keyType}`
      if (keys === undefined) {
        const lp2pMissing = (dialer.isLp2p && !dialer.capabilities.keyTypes.includes(keyType)) ||
          (listener.isLp2p && !listener.capabilities.keyTypes.includes(keyType))
        add(column, combo, keyType, keyType, {
          kind: lp2pMissing ? 'lp2p-unsupported' : 'unsupported',
          reason: `neither ${dialer.name} nor ${listener.name} can make a ${keyType} host key`
        })
      } else {
        add(column, combo, keys[0], keys[1])
      }
    }
  }
  for (const security of EXTRA_SECURITY) {
    const combo = { transport: 'tcp', security, muxer: 'yamux' }
    add(comboLabel(combo), combo, DEFAULT_KEY, DEFAULT_KEY)
  }
  for (const mode of PNET_MODES) add(`pnet:${mode}`, BASE_COMBO, DEFAULT_KEY, DEFAULT_KEY, undefined, mode)
  for (const check of CHECKS) add(check, BASE_COMBO, DEFAULT_KEY, DEFAULT_KEY, undefined, undefined, check)
  return out
}

/** Which ordered pairs to run. */
export type PairMode = 'lp2p' | 'reference' | 'all'

export function planPairs (impls: Implementation[], mode: PairMode): Array<[Implementation, Implementation]> {
  const lp2p = impls.filter((i) => i.isLp2p)
  const refs = impls.filter((i) => !i.isLp2p)
  const pairs: Array<[Implementation, Implementation]> = []
  if (mode !== 'reference') {
    for (const l of lp2p) {
      for (const r of refs) pairs.push([l, r], [r, l])
      pairs.push([l, l])
    }
  }
  if (mode !== 'lp2p') {
    for (const a of refs) {
      for (const b of refs) if (a !== b) pairs.push([a, b])
    }
  }
  return pairs
}

export function planMatrix (impls: Implementation[], mode: PairMode): PlannedCase[] {
  return planPairs(impls, mode).flatMap(([d, l]) => planPair(d, l))
}
