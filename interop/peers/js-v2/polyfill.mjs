// js-libp2p 3.x calls Promise.withResolvers, which Node gained in 22: the driver loads
// this file with --import on older Nodes. Same semantics as the built-in.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
