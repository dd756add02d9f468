// A seeding torrent with no peer has nothing to do on its tick but dial (a daemon holds thousands): it
// reports once that it went idle, then stays quiet while there is nothing new to say. A peer can come,
// take the whole torrent and go between two ticks (10 MB on loopback in half a second): its bytes are news.

export class IdleReport {
  /** The last tick reported the torrent idle, with these totals. */
  #reported = false;
  #uploaded = 0;
  #downloaded = 0;

  /** True when this tick has nothing new to say (idle, as reported last, with the same totals); else it counts as reported. */
  unchanged(idle: boolean, uploaded: number, downloaded: number): boolean {
    if (idle && this.#reported && this.#uploaded === uploaded && this.#downloaded === downloaded) return true;
    this.#reported = idle;
    this.#uploaded = uploaded;
    this.#downloaded = downloaded;
    return false;
  }
}
