/**
 * js-libp2p 3.x calls Promise.withResolvers (Node 22+). On Node 20 this 4-line
 * polyfill must load before any js-libp2p module: import it first.
 */
const P = Promise as unknown as { withResolvers?: () => unknown }
P.withResolvers ??= function withResolvers<T> () {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
export {}
