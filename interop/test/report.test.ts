import { strict as assert } from 'node:assert'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { planPair, referenceCapabilities, type Implementation } from '../driver/matrix.js'
import { buildMatrix, count, renderMarkdown, renderText } from '../driver/report.js'
import { checkDialerResult, findJsonLine, type CaseResult } from '../driver/run-case.js'

const ref = (name: string): Implementation => ({ name, isLp2p: false, capabilities: referenceCapabilities([{ muxer: 'mplex', reason: 'none' }]), unsupported: [{ muxer: 'mplex', reason: 'none' }] })
const lp2p: Implementation = { name: 'lp2p', isLp2p: true, capabilities: { transports: ['tcp'], security: ['noise'], muxers: ['yamux'], keyTypes: ['ed25519'] }, unsupported: [] }

const GOOD = { handshakePlusOneRTTMillis: 12.5, pingRTTMilllis: 0.4, echoOk: true, remoteAgent: 'x/1', remoteProtocols: ['/echo/1.0.0', '/ipfs/ping/1.0.0'] }

describe('dialer result checks', () => {
  it('accepts a complete line and finds it among log lines', () => {
    const text = `starting\n{"not":"it"}\n${JSON.stringify(GOOD)}\ntrailing`
    const line = findJsonLine(text, 'echoOk')
    assert.deepEqual(line, GOOD)
    assert.equal(checkDialerResult(line), undefined)
  })

  it('rejects each missing or wrong field', () => {
    assert.match(checkDialerResult(undefined) ?? '', /no result/)
    assert.match(checkDialerResult({ ...GOOD, echoOk: false }) ?? '', /echoOk/)
    assert.match(checkDialerResult({ ...GOOD, handshakePlusOneRTTMillis: 'fast' }) ?? '', /handshake/)
    assert.match(checkDialerResult({ ...GOOD, pingRTTMilllis: -1 }) ?? '', /ping/)
    assert.match(checkDialerResult({ ...GOOD, remoteAgent: '' }) ?? '', /identify/)
    assert.match(checkDialerResult({ ...GOOD, remoteProtocols: ['/ipfs/ping/1.0.0'] }) ?? '', /echo/)
  })

  it('peer-record: needs the listener\'s record certified, with the dialed address', () => {
    const addr = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWLRPJAA5o6Z6ibKcFzDnsXXq5GYZfJ9sBX3yrqNfcB4n8'
    const record = (certified: boolean, addresses: string[]): Record<string, unknown> => ({ ...GOOD, remotePeerRecord: { certified, addresses } })
    assert.equal(checkDialerResult(record(true, ['/ip4/127.0.0.1/tcp/4001']), 'peer-record', addr), undefined)
    assert.match(checkDialerResult(GOOD, 'peer-record', addr) ?? '', /remotePeerRecord missing/)
    assert.match(checkDialerResult(record(false, []), 'peer-record', addr) ?? '', /not accepted/)
    assert.match(checkDialerResult(record(true, ['/ip4/10.0.0.1/tcp/4001']), 'peer-record', addr) ?? '', /lack/)
    assert.equal(checkDialerResult(GOOD, undefined, addr), undefined, 'other columns do not ask for it')
  })

  it('never throws on arbitrary output (property)', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (text, field) => {
      const line = findJsonLine(text, field === '' ? 'echoOk' : field)
      if (line !== undefined) assert.equal(typeof line, 'object')
      checkDialerResult(line)
      checkDialerResult(line, 'peer-record', text)
    }))
  })
})

describe('report', () => {
  const cases = [...planPair(lp2p, ref('go')), ...planPair(ref('go'), lp2p)]
  const results = new Map<string, CaseResult>()
  results.set('lp2p -> go tcp/noise/yamux', { id: 'lp2p -> go tcp/noise/yamux', status: 'pass', handshakePlusOneRTTMillis: 7.4, elapsedMillis: 100 })
  results.set('go -> lp2p tcp/noise/yamux', { id: 'go -> lp2p tcp/noise/yamux', status: 'fail', error: 'boom', elapsedMillis: 100 })

  it('fills cells with pass/FAIL/unsupported/lp2p-unsupported and counts them', () => {
    const m = buildMatrix(cases, results, false)
    assert.deepEqual(m.rows, ['lp2p -> go', 'go -> lp2p'])
    assert.equal(m.cells.get('lp2p -> go\ttcp/noise/yamux')?.status, 'pass')
    assert.equal(m.cells.get('go -> lp2p\ttcp/noise/yamux')?.status, 'FAIL')
    assert.equal(m.cells.get('lp2p -> go\ttcp/noise/mplex')?.status, 'lp2p-unsupported')
    const c = count(m)
    assert.equal(c.pass, 1)
    assert.equal(c.fail, 1)
    assert.equal(c.pass + c.fail + c.unsupported + c.lp2pUnsupported + c.notRun, cases.length)
    const text = renderText(m)
    assert.match(text, /lp2p -> go +pass 7ms/)
    assert.match(text, /go -> lp2p +FAIL/)
    assert.match(renderMarkdown(m), /^\| dialer → listener \| tcp\/noise\/yamux/)
  })

  it('inverts expectations for a deliberately broken lp2p', () => {
    const m = buildMatrix(cases, results, true)
    assert.equal(m.cells.get('lp2p -> go\ttcp/noise/yamux')?.status, 'UNEXPECTED-PASS')
    assert.equal(m.cells.get('go -> lp2p\ttcp/noise/yamux')?.status, 'expected-fail')
  })
})
