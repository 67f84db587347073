/**
 * Stored workflow versions read from the server once each (`GET /workflow/api/versions/{hash}`):
 * a version never changes, so what was read is kept.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { Version } from '../api/types';
import { WorkflowApiError } from '../run/client';
import type { RunClient } from '../run/client';

export class VersionCache {
  constructor(private readonly _client: Pick<RunClient, 'getVersion'>) {}

  /** Emitted when a version asked for has been read (or found missing). */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  /**
   * The version with this hash: the version, null when the store has none (or it could not be
   * read), undefined while it is being read (asked for here when not known yet).
   */
  lookup(hash: string): Version | null | undefined {
    if (this._known.has(hash)) return this._known.get(hash)!;
    void this.load(hash);
    return undefined;
  }

  /** Reads the version (once): the version, or null when the store has none or the server failed. */
  load(hash: string): Promise<Version | null> {
    if (this._known.has(hash)) return Promise.resolve(this._known.get(hash)!);
    let pending = this._pending.get(hash);
    if (pending === undefined) {
      pending = this._client.getVersion(hash).then(
        version => this._settle(hash, version),
        error => {
          // A version that cannot be read counts as missing (until the page is loaded again):
          // asking again on every redraw would flood a server that is away.
          if (!(error instanceof WorkflowApiError && error.status === 404)) {
            console.warn(`jupyter-workflow: could not read version ${hash}:`, error);
          }
          return this._settle(hash, null);
        }
      );
      this._pending.set(hash, pending);
    }
    return pending;
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _settle(hash: string, version: Version | null): Version | null {
    this._known.set(hash, version);
    this._pending.delete(hash);
    this._changed.emit(hash);
    return version;
  }

  private _known = new Map<string, Version | null>();
  private _pending = new Map<string, Promise<Version | null>>();
  private _changed = new Signal<this, string>(this);
}
