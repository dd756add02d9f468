// The peer wire codec (BEP 3): pure functions on bytes, no I/O. One import for connections to use.
export { WireError, type WireErrorCode } from "./errors.ts";
export { decodeHandshake, DHT_BIT, encodeHandshake, HANDSHAKE_LENGTH, PROTOCOL, supportsDht } from "./handshake.ts";
export { readFrame, maxFrameLength, WireFrame, DEFAULT_MAX_OTHER, type Decoded, type WireLimits } from "./frame.ts";
export { decodeMessage, encodeMessage, encodeMessageInto, encodedLength, messageOf, writePieceHeader, writeRequest } from "./messages.ts";
export { BLOCK_SIZE, MessageId, type Handshake, type WireMessage } from "./types.ts";
export {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  EXTENSION_BIT,
  EXTENSION_HANDSHAKE_ID,
  supportsExtensions,
  type ExtensionHandshake,
} from "./extension.ts";
export { ALLOWED_FAST_COUNT, allowedFastSet, FAST_BIT, isFastMessage, supportsFast, type FastMessage } from "./fast.ts";
