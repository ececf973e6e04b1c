/**
 * The persistent {@link PeerStore}: LevelDB through `classic-level` (driver). One
 * protobuf per peer (`peer-codec.ts`) under the key `p` + the peer id's bytes, and a
 * format marker under `\0format`.
 *
 * - `PersistentPeerStore.open(dir)` loads every peer into memory (expired addresses
 *   and tags dropped; connected addresses back as recently connected); from then on
 *   it is the in-memory store: reads are synchronous, writes apply in memory at once.
 * - Writes go to disk behind, coalesced per peer, every `writeInterval` (default 1 s):
 *   a crash loses at most the changes of that interval (see `write-behind.ts`).
 *   `flush()` writes now; `close()` writes and releases the database.
 * - The bounds apply on load too; evicted and collected peers are deleted on disk.
 * - An unreadable store is `ERR_PEER_STORE_CORRUPT` naming its path (LevelDB reports
 *   corruption, a value is not a stored peer, the format marker is unknown); one held
 *   by another process or not accessible is `ERR_PEER_STORE_UNAVAILABLE`.
 *
 * Starting fresh: the store holds only what the node learned about other peers, never
 * its identity (a separate key file in the data directory), so deleting the store's
 * folder, or {@link PersistentPeerStore.destroy}, loses nothing that cannot be learned
 * again.
 *
 * `classic-level` is imported when a store is opened, so a node that keeps its peers
 * in memory never loads the native module.
 */
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ClassicLevel } from 'classic-level'
import { codes, Lp2pError } from '../errors.js'
import { MemoryPeerStore } from './memory-peer-store.js'
import { duration, resolvePeerStoreOptions, type PeerStoreOptions } from './options.js'
import { decodePeerEntry, encodePeerEntry } from './peer-codec.js'
import type { PeerEntry } from './peer-entry.js'
import { WriteBehind, type PeerWrite } from './write-behind.js'

export interface PersistentPeerStoreOptions extends PeerStoreOptions {
  /**
   * ms between a change and its write. Default 1 s: changes come in bursts (a
   * connection brings a connected address, identify, a record), so a second
   * coalesces a burst into one write per peer, and a crash loses at most that.
   */
  writeInterval?: number
  /**
   * fsync each batch (default false): survives a power loss too, at the cost of a
   * disk flush per batch; without it, a killed process loses nothing LevelDB was given.
   */
  sync?: boolean
}

/**
 * Peers per LevelDB batch: 1024 peers (~100-200 KiB) encode in a few ms, so a flush
 * of 100 000 peers yields to the event loop between batches instead of blocking it.
 */
const BATCH_PEERS = 1024
/** The format of this store's values; another value means another (future) format. */
const FORMAT = 'lp2p-peerstore/1'
const FORMAT_KEY = Uint8Array.from(Buffer.from('\0format'))
const PEER_PREFIX = 0x70 // 'p'
/** The files LevelDB keeps in its folder: `destroy()` deletes nothing else. */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/

type Db = ClassicLevel<Uint8Array, Uint8Array>

interface Init {
  path: string
  db: Db
  writer: WriteBehind
  entries: PeerEntry[]
  options: PersistentPeerStoreOptions
}

export class PersistentPeerStore extends MemoryPeerStore {
  /** The store's folder, absolute. */
  readonly path: string
  readonly #db: Db
  readonly #writer: WriteBehind
  #closing: Promise<void> | undefined

  /** Use {@link PersistentPeerStore.open}. */
  private constructor (init: Init) {
    super(init.options, { sink: init.writer, entries: init.entries })
    this.path = init.path
    this.#db = init.db
    this.#writer = init.writer
  }

  /**
   * Opens (creating it, mode 0700) the store in `dir` and loads every peer.
   * @throws Lp2pError ERR_PEER_STORE_CORRUPT / ERR_PEER_STORE_UNAVAILABLE naming `dir`.
   */
  static async open (dir: string, options: PersistentPeerStoreOptions = {}): Promise<PersistentPeerStore> {
    const path = resolve(dir)
    const limits = resolvePeerStoreOptions(options)
    const interval = duration(options.writeInterval, 1000, 'options.writeInterval')
    const sync = options.sync === true
    try {
      await mkdir(path, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw unavailable(path, (err as Error).message, err)
    }
    const { ClassicLevel } = await import('classic-level')
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      throw openError(path, err)
    }
    let entries: PeerEntry[]
    const empty: PeerEntry[] = []
    try {
      await checkFormat(db, path)
      entries = []
      const now = limits.now()
      for await (const [key, value] of db.iterator({ gte: Uint8Array.of(PEER_PREFIX), lt: Uint8Array.of(PEER_PREFIX + 1) })) {
        let entry: PeerEntry
        try {
          entry = decodePeerEntry(value, key.subarray(1), now, limits)
        } catch (err) {
          throw corrupt(path, `the value of peer key ${Buffer.from(key.subarray(1)).toString('hex')} is not a stored peer: ${(err as Error).message}`, err)
        }
        if (entry.isEmpty(now)) empty.push(entry)
        else entries.push(entry)
      }
    } catch (err) {
      await db.close().catch(() => {})
      throw err instanceof Lp2pError ? err : openError(path, err)
    }
    const writer = new WriteBehind({
      interval,
      batchSize: BATCH_PEERS,
      write: async (batch) => { await db.batch(batch.map(toOperation), { sync }) },
      onError: (err) => { process.emitWarning(`peer store ${path}: a background write failed and will be retried: ${(err as Error).message}`, { code: 'LP2P_PEER_STORE_WRITE' }) }
    })
    const store = new PersistentPeerStore({ path, db, writer, entries, options })
    // Peers with nothing left since the last run are deleted on disk.
    for (const e of empty) writer.removed(e)
    return store
  }

  /**
   * Deletes the store in `dir` to start fresh (the node's identity is not in it).
   * Refuses a folder holding anything but LevelDB's files (so a wrong path, such as
   * the data directory itself, is never emptied) and a store another process has
   * open. Nothing to do when `dir` does not exist.
   * @throws Lp2pError ERR_PEER_STORE_UNAVAILABLE
   */
  static async destroy (dir: string): Promise<void> {
    const path = resolve(dir)
    let names: string[]
    try {
      names = await readdir(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw unavailable(path, (err as Error).message, err)
    }
    const foreign = names.filter((n) => !LEVELDB_FILE.test(n))
    if (foreign.length > 0) {
      throw unavailable(path, `refusing to delete it: it holds ${foreign.slice(0, 3).join(', ')}, which LevelDB does not write; is this the peer store's folder?`)
    }
    const { ClassicLevel } = await import('classic-level')
    const probe = new ClassicLevel(path, { createIfMissing: false })
    try {
      await probe.open()
      await probe.close()
    } catch (err) {
      // A corrupt store is what destroy is for; one in use by another process is not ours to delete.
      if (levelCode(err) === 'LEVEL_LOCKED') throw openError(path, err)
    }
    // Opening it may have written new files (a recovered log): list again.
    const files = (await readdir(path)).filter((n) => LEVELDB_FILE.test(n))
    await Promise.all(files.map(async (n) => { await rm(resolve(path, n), { force: true }) }))
    await rmdir(path)
  }

  /** Peers changed and not yet written. */
  get pendingWrites (): number {
    return this.#writer.pending
  }

  override async flush (): Promise<void> {
    await this.#writer.flush()
  }

  /** Writes what is pending and closes the database; later changes stay in memory only. */
  override async close (): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writer.close()
      } finally {
        await this.#db.close()
      }
    })()
    await this.#closing
  }
}

function toOperation (w: PeerWrite): { type: 'put', key: Uint8Array, value: Uint8Array } | { type: 'del', key: Uint8Array } {
  const key = new Uint8Array(1 + w.entry.idBytes.length)
  key[0] = PEER_PREFIX
  key.set(w.entry.idBytes, 1)
  return w.removed ? { type: 'del', key } : { type: 'put', key, value: encodePeerEntry(w.entry) }
}

/** A new store gets the marker; an existing one must carry ours. */
async function checkFormat (db: Db, path: string): Promise<void> {
  const marker = await db.get(FORMAT_KEY)
  if (marker === undefined) {
    for await (const _ of db.keys({ limit: 1 })) throw corrupt(path, 'it holds data but no lp2p peer store format marker')
    await db.put(FORMAT_KEY, Uint8Array.from(Buffer.from(FORMAT)))
    return
  }
  const format = Buffer.from(marker).toString('utf8')
  if (format !== FORMAT) throw corrupt(path, `its format is "${format}", not "${FORMAT}"`)
}

function levelCode (err: unknown): string | undefined {
  const e = err as { code?: string, cause?: { code?: string } }
  return e?.code === 'LEVEL_DATABASE_NOT_OPEN' && e.cause?.code !== undefined ? e.cause.code : e?.code
}

function openError (path: string, err: unknown): Lp2pError {
  const code = levelCode(err)
  const detail = String((err as { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? err)
  if (code === 'LEVEL_LOCKED') return unavailable(path, `it is in use by another process (${detail})`, err)
  if (code === 'LEVEL_IO_ERROR' && /permission denied|not a directory/i.test(detail)) return unavailable(path, detail, err)
  return corrupt(path, detail, err)
}

function corrupt (path: string, detail: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_PEER_STORE_CORRUPT,
    `the peer store at ${path} cannot be read: ${detail}. To start fresh, delete that folder ` +
    '(PersistentPeerStore.destroy): it holds only what the node learned about other peers, not its identity',
    cause !== undefined ? { cause } : undefined)
}

function unavailable (path: string, detail: string, cause?: unknown): Lp2pError {
  return new Lp2pError(codes.ERR_PEER_STORE_UNAVAILABLE, `the peer store at ${path} cannot be opened: ${detail}`,
    cause !== undefined ? { cause } : undefined)
}
