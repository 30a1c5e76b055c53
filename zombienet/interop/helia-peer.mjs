// A Helia (IPFS in JavaScript) peer on loopback, for interop tests with the node's bitswap
// endpoint. Run with `node --import ./polyfill.mjs helia-peer.mjs ...`:
//
//   serve FILE              import FILE (UnixFS defaults: CIDv1, raw leaves, 1 MiB chunks,
//                           1024 links), print {"cid","addrs"} as one JSON line, serve until
//                           killed
//   fetch CID ADDR OUT      dial ADDR, fetch CID over bitswap into OUT, print
//                           {"bytes","secs"}
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'

async function peer () {
  const helia = withBitswap(withLibp2pLight(createHeliaLight({ routers: [] }), {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  }))
  await helia.start()
  return helia
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'serve') {
  const helia = await peer()
  const cid = await unixfs(helia).addByteStream(createReadStream(args[0]))
  const addrs = helia.libp2p.getMultiaddrs().map(String)
  process.stdout.write(JSON.stringify({ cid: cid.toString(), addrs }) + '\n')
} else if (mode === 'fetch') {
  const [cid, addr, out] = args
  const helia = await peer()
  const started = performance.now()
  await helia.libp2p.dial(multiaddr(addr))
  const file = createWriteStream(out)
  let bytes = 0
  for await (const chunk of unixfs(helia).cat(cid, { signal: AbortSignal.timeout(120_000) })) {
    bytes += chunk.length
    if (!file.write(chunk)) await once(file, 'drain')
  }
  file.end()
  await once(file, 'finish')
  process.stdout.write(JSON.stringify({ bytes, secs: (performance.now() - started) / 1000 }) + '\n')
  await helia.stop()
  process.exit(0)
} else {
  process.stderr.write('usage: helia-peer.mjs serve FILE | fetch CID ADDR OUT\n')
  process.exit(2)
}
