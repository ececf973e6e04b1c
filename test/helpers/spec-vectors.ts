/**
 * The specs' test vectors as fixtures of this repository (`test/fixtures/spec-vectors/`),
 * so the tests run wherever the repository is cloned: the hex vectors of
 * `specs/peer-ids.md` and `specs/tls.md`, and the go-libp2p key fixtures of
 * `specs/test-vectors/go-libp2p-crypto`, copied as they are.
 *
 * When the spec files themselves are at hand (`LP2P_SPECS_DIR`, or `../shared/specs`
 * next to the repository), {@link specText} and {@link specPath} find them, and the
 * vector tests check that the fixtures still say what the spec says (the go-libp2p
 * key files byte for byte).
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'spec-vectors')
const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where the go-libp2p key fixtures are (`<n>.priv`, `<n>.pub`, `<n>.sig`). */
export const GO_CRYPTO_FIXTURES = path.join(FIXTURES, 'go-libp2p-crypto')
/** The specs folder they are copied from (for {@link specPath} and {@link specMissing}). */
export const GO_CRYPTO_SPEC_DIR = 'test-vectors/go-libp2p-crypto'

/** specs/peer-ids.md's vector table: row name ("ED25519 public key") -> lower-case hex. */
export function peerIdVectors (): Record<string, string> {
  return (JSON.parse(readFileSync(path.join(FIXTURES, 'peer-ids.json'), 'utf8')) as { vectors: Record<string, string> }).vectors
}

/** specs/tls.md's certificate vectors, in the spec's order. */
export function tlsCertificateVectors (): Array<{ title: string, certificate: string, peerId?: string }> {
  return (JSON.parse(readFileSync(path.join(FIXTURES, 'tls-certificates.json'), 'utf8')) as { vectors: Array<{ title: string, certificate: string, peerId?: string }> }).vectors
}

/** The path of a spec file or folder (`test-vectors/...`) when the specs are at hand, else undefined. */
export function specPath (name: string): string | undefined {
  const dirs = [process.env.LP2P_SPECS_DIR, path.join(REPO, '..', 'shared', 'specs')]
  for (const dir of dirs) {
    if (dir === undefined || dir === '') continue
    const file = path.join(dir, name)
    if (existsSync(file)) return file
  }
  return undefined
}

/** The text of a spec file when the specs are at hand, else undefined. */
export function specText (name: string): string | undefined {
  const file = specPath(name)
  return file === undefined ? undefined : readFileSync(file, 'utf8')
}

/** Why a spec cross-check is skipped, or false when it runs. */
export function specMissing (name: string): string | false {
  return specPath(name) === undefined ? `specs/${name} is not at hand (set LP2P_SPECS_DIR)` : false
}
