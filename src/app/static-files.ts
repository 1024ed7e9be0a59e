// A directory served under a prefix (Starlette's StaticFiles): GET and HEAD, an index file for
// a directory, and no way out of the directory, whatever the path's spelling.
import { realpathSync, statSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { file } from "../http/file-response.js";
import { HttpError } from "../http/http-error.js";
import type { HttpRequest } from "../http/request.js";
import { type HeaderValue, type OutgoingResponse, redirect } from "../http/response.js";
import { sendParts } from "../http/send-parts.js";

export interface StaticFilesOptions {
  /** The file sent for a directory's path (default `"index.html"`); `null`: a directory is a 404. */
  index?: string | null;
  /** Serve names that start with a dot (default false: 404, so `.env` or `.git/` never leak). */
  dotfiles?: boolean;
  /** Serve symbolic links that lead outside the directory (default false: 404; links that stay inside are served). */
  followSymlinks?: boolean;
  /** `Cache-Control` sent with every file, e.g. `"public, max-age=3600"` (default none: caches revalidate with the ETag). */
  cacheControl?: string;
}

/**
 * Files of one directory, mounted with `app.mount("/static", staticFiles("public"))`. Each path
 * segment is decoded on its own and refused (404) if it is `.` or `..`, holds a `/`, `\` or NUL
 * once decoded, is empty, or starts with a dot (unless `dotfiles`); the file's real path must lie
 * inside the directory's (unless `followSymlinks`).
 */
export class StaticFiles {
  /** The directory's real path (symbolic links resolved), checked when the mount is made. */
  readonly root: string;
  readonly index: string | null;
  readonly dotfiles: boolean;
  readonly followSymlinks: boolean;
  private readonly headers: Record<string, HeaderValue>;

  constructor(directory: string | URL, options: StaticFilesOptions = {}) {
    const path = resolve(directory instanceof URL ? fileURLToPath(directory) : directory);
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // Said below, with the path.
    }
    if (!isDirectory) throw new Error(`staticFiles(): ${path} is not a directory`);
    this.root = realpathSync(path);
    const index = options.index === undefined ? "index.html" : options.index;
    if (index !== null && (typeof index !== "string" || index === "" || /[/\\\0]/.test(index) || index === "." || index === "..")) {
      throw new TypeError(`staticFiles(): index must be a file name, got ${JSON.stringify(index)}`);
    }
    this.index = index;
    this.dotfiles = options.dotfiles ?? false;
    this.followSymlinks = options.followSymlinks ?? false;
    this.headers = options.cacheControl === undefined ? {} : { "cache-control": options.cacheControl };
  }

  /**
   * The answer for `req`, whose path's first `depth` segments are the mount's prefix. A missing
   * or refused file is an HttpError 404 (so the app's exception handlers see it).
   */
  async respond(req: HttpRequest, depth: number): Promise<OutgoingResponse> {
    const raw = req.path.split("/").slice(1 + depth);
    const slashed = raw.length > 0 && raw.at(-1) === "";
    const names = this.names(slashed ? raw.slice(0, -1) : raw);
    const found = await this.find(names);
    // A file asked for as a directory (`/app.js/`) is not one.
    if (found.kind === "file" && !slashed) return file(found.path, { headers: this.headers });
    if (found.kind === "directory" && this.index !== null) {
      const index = await this.find([...names, this.index]);
      if (index.kind === "file") {
        // A directory's index goes out under its path with a slash, so the page's relative links
        // resolve inside the directory. The redirect is relative (`./docs/` from `/static/docs`):
        // right behind a proxy that serves the app under a prefix of its own too.
        if (!slashed) {
          const last = req.path.slice(req.path.lastIndexOf("/") + 1);
          return redirect(sendParts().encodeUrl(`./${last}/${req.url.slice(req.path.length)}`));
        }
        return file(index.path, { headers: this.headers });
      }
    }
    throw notFound();
  }

  /** The decoded names of the path's segments, each checked on its own. */
  private names(segments: string[]): string[] {
    return segments.map((segment) => {
      let name: string;
      try {
        name = decodeURIComponent(segment);
      } catch {
        throw notFound();
      }
      if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) throw notFound();
      if (name.startsWith(".") && !this.dotfiles) throw notFound();
      return name;
    });
  }

  /** What the names lead to, by its real path, if it is inside the directory (or links may lead out). */
  private async find(names: string[]): Promise<{ kind: "file" | "directory"; path: string } | { kind: "none" }> {
    const candidate = join(this.root, ...names);
    if (!this.inside(candidate)) return { kind: "none" };
    try {
      const real = await realpath(candidate);
      if (!this.followSymlinks && !this.inside(real)) return { kind: "none" };
      const stats = await stat(real);
      if (stats.isFile()) return { kind: "file", path: real };
      if (stats.isDirectory()) return { kind: "directory", path: real };
    } catch {
      // Missing, unreadable, a loop of links: nothing to serve.
    }
    return { kind: "none" };
  }

  private inside(path: string): boolean {
    return path === this.root || path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }
}

function notFound(): HttpError {
  return new HttpError(404, "Not Found");
}

/**
 * A directory's files, to mount under a prefix:
 *
 *     app.mount("/static", staticFiles(new URL("./public", import.meta.url)));
 *
 * GET and HEAD only; ETag, Last-Modified, 304 and ranges as `file()` answers them. The
 * directory must exist when this is called (a relative path is taken from the current directory).
 */
export function staticFiles(directory: string | URL, options?: StaticFilesOptions): StaticFiles {
  return new StaticFiles(directory, options);
}
