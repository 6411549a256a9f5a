import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'

// Reads the zips `serverless package` writes, from the central directory (APPNOTE.TXT, 4.3.12 and 4.3.7):
// https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT. Stored and deflated entries only, which is all
// osls writes.

const END_OF_CENTRAL_DIRECTORY = Buffer.from([0x50, 0x4b, 0x05, 0x06])
const STORED = 0
const DEFLATED = 8

/** Every file in a zip, by name, with its uncompressed contents. */
export function readZip(path: string): Map<string, Buffer> {
  const zip = readFileSync(path)
  const end = zip.lastIndexOf(END_OF_CENTRAL_DIRECTORY)
  const count = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  const files = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(offset + 10)
    const compressedSize = zip.readUInt32LE(offset + 20)
    const nameLength = zip.readUInt16LE(offset + 28)
    const local = zip.readUInt32LE(offset + 42)
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength)
    // The local header repeats the name and may carry its own extra field, of another length.
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const data = zip.subarray(start, start + compressedSize)
    if (method !== STORED && method !== DEFLATED) throw new Error(`${path}: ${name} uses compression method ${method}`)
    files.set(name, method === DEFLATED ? inflateRawSync(data) : Buffer.from(data))
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32)
  }
  return files
}
