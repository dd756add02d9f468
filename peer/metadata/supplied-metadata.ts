// Metadata handed to a magnet link from elsewhere (a .torrent added for its info hash, as qBittorrent does
// with a duplicate add): taken only when its info dictionary's SHA-1 is the link's info hash, with the
// .torrent's trackers that the link lacks merged in after the link's own.
import { bytesEqual, toHex } from "../../shared/bytes.ts";
import { mergeTiers } from "../../shared/metainfo/from-info.ts";

/** A .torrent's info dictionary (its bytes as they stand in the file), trackers and web seeds. */
export interface SuppliedMetadata {
  infoBytes: Uint8Array;
  announceList: string[][];
  urlList: string[];
  private: boolean;
}

/** Why supplied metadata was not taken: it is not this torrent's, or the metadata phase is over. */
export interface SupplyRefusal {
  code: "info-mismatch" | "not-fetching";
  message: string;
}

export const sha1 = (bytes: Uint8Array): Uint8Array => new Bun.CryptoHasher("sha1").update(bytes).digest() as Uint8Array;

/** Why the supplied metadata is not this info hash's (its info dictionary's SHA-1 is another), or null. */
export function suppliedRefusal(supplied: SuppliedMetadata, infoHash: Uint8Array): SupplyRefusal | null {
  const hash = sha1(supplied.infoBytes);
  if (bytesEqual(hash, infoHash)) return null;
  return { code: "info-mismatch", message: `its info dictionary's SHA-1 is ${toHex(hash)}, not the info hash ${toHex(infoHash)}` };
}

/**
 * The tracker tiers the torrent goes on with: the link's (as they are now), then the .torrent's it lacks.
 * A private torrent's trackers are its own alone (BEP 27): the link's are not added to them.
 */
export function suppliedTiers(supplied: Pick<SuppliedMetadata, "announceList" | "private">, linkTiers: string[][]): string[][] {
  return supplied.private ? supplied.announceList : mergeTiers(linkTiers, supplied.announceList);
}
