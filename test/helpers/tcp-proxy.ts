import { createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of Postgres that can stall every connection
 * (half-open: bytes are swallowed, nothing is closed), cut them, or drop them all, to
 * simulate a network partition between a client and the database.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #pairs = new Set<[Socket, Socket]>()
  /** Connections accepted while stalled, never answered. */
  readonly #hanging = new Set<Socket>()
  #stalled = false
  #dropping = false
  port = 0

  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {
    this.#server = createServer((client) => this.#accept(client))
  }

  /** A started proxy in front of the Postgres server of `databaseUrl`. */
  static inFrontOf(databaseUrl: string): Promise<TcpProxy> {
    const target = new URL(databaseUrl)
    return new TcpProxy(target.hostname, Number(target.port || 5432)).start()
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    const address = this.#server.address()
    if (typeof address !== 'object' || !address) throw new Error('proxy has no port')
    this.port = address.port
    return this
  }

  /** Rewrites a postgres URL to go through this proxy. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl)
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.toString()
  }

  /** Stops forwarding in both directions without closing anything. */
  stall(): void {
    this.#stalled = true
  }

  /** Resets every connection and every new one, like a host whose route is gone. */
  drop(): void {
    this.#dropping = true
    this.cut()
  }

  /** Sends new connections to another server (a virtual IP moved to the new primary). */
  retarget(host: string, port: number): void {
    this.targetHost = host
    this.targetPort = port
  }

  resume(): void {
    this.#stalled = false
    this.#dropping = false
  }

  /** Destroys every proxied connection (like a reset), and every one left hanging by a stall. */
  cut(): void {
    for (const socket of this.#hanging) socket.destroy()
    this.#hanging.clear()
    for (const [a, b] of this.#pairs) {
      a.destroy()
      b.destroy()
    }
    this.#pairs.clear()
  }

  async stop(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket): void {
    if (this.#dropping) {
      client.on('error', () => {}).resetAndDestroy()
      return
    }
    if (this.#stalled) {
      this.#hanging.add(client)
      client.on('error', () => {}).on('close', () => this.#hanging.delete(client))
      return // never answered: a connect attempt hangs like a partitioned host
    }
    const upstream = new (client.constructor as typeof Socket)()
    const pair: [Socket, Socket] = [client, upstream]
    this.#pairs.add(pair)
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!this.#stalled) to.write(chunk)
      })
    forward(client, upstream)
    forward(upstream, client)
    const close = () => {
      this.#pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    upstream.connect(this.targetPort, this.targetHost)
  }
}
