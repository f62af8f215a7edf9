declare module 'cpio-stream' {
  import { Readable, Writable } from 'node:stream';
  export interface CpioHeader {
    name: string;
    mode: number;
    uid: number;
    gid: number;
    nlink: number;
    mtime: Date;
    ino: number;
    dev?: number;
    devmajor: number;
    devminor: number;
    rdevmajor: number;
    rdevminor: number;
    size?: number;
    linkname?: string;
  }
  export interface Pack extends Readable {
    entry(header: CpioHeader, buffer?: Buffer | string, cb?: (err?: Error) => void): Writable;
    finalize(): void;
  }
  export function pack(opts?: { format?: 'newc' | 'odc' }): Pack;
}
