import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Command } from 'commander'
import { Registry } from 'prom-client'
import { registerMetrics } from '../limits/metrics.js'
import { type GlobalOptions, openCoordinator } from './context.js'
import { parsePort } from './parse.js'

/** `pgslots metrics --port 9464`: a Prometheus endpoint at /metrics. */
export function registerMetricsCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('metrics')
    .description('serve Prometheus metrics at http://HOST:PORT/metrics')
    .option('--port <port>', 'port to listen on (0: any free port, printed)', parsePort, 9464)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (flags: { port: number; host: string }) => {
      const slots = openCoordinator(global(), { listen: false })
      const registry = new Registry()
      registerMetrics(slots, registry)
      const server = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end('not found: try /metrics\n')
          return
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (error: Error) => res.writeHead(503).end(`pgslots: ${error.message}\n`),
        )
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(flags.port, flags.host, resolve)
      })
      const { port } = server.address() as AddressInfo
      process.stdout.write(`serving metrics on http://${flags.host}:${port}/metrics\n`)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      server.close()
      await slots.close()
    })
}
